"""Rules: when something happens (an event or a schedule) and a CEL condition over a documented
context holds, dispatch an action as a CloudEvent — at most once per rule, trigger and cool-down
window. model.py is the rule document, conditions.py the CEL context and its checks, store.py
where rules, their state and activations live, engine.py the evaluation, actions.py what actions do.
"""
