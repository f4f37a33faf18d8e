"""Online measurement: request ids and the served-list log, feedback attributed to them, A/B
experiments, and the report of CTR and conversion per scenario and variant.

    ab.py        users hashed into the variants of the configured experiments
    served.py    the served-list log: every answered list under its request id, written in batches
    feedback.py  impressions, clicks and conversions checked against the served lists
    report.py    CTR and conversion with Wilson intervals, per scenario and variant
"""
