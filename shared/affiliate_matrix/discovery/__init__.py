"""Discovery: find affiliate programs nobody has listed yet, by search-engine "dork" queries.

dorks.py generates the queries, providers.py sends them (Google Programmable Search, Brave,
SearXNG) within each provider's daily quota, candidates.py de-duplicates the results and skips
what is known, validate.py decides from the fetched page whether it is a program, and run.py
ties it together: confident finds enter the index as `discovered`, doubtful ones a review list.
"""
