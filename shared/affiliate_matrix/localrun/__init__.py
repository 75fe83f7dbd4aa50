"""`amx up`: the whole system on one machine, wired as the cluster is.

plan.py reads manifests/base (the Knative Services, Triggers, PingSources and the Broker's
delivery), so the local wiring cannot drift from the deployed one; router.py is the Broker
(type filters, retries with backoff, a dead-letter folder); runner.py starts each function as its
own functions-framework process, restarts one that dies, and fires the PingSources on a clock
that `--speed` compresses.
"""
