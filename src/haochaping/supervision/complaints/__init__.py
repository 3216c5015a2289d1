"""社会"综合点评" intake (R3.6): complaints and suggestions from 意见箱, 12345热线 work orders, 监督平台 (and the
中国政府网 complaint platform), e-mail and walk-ins, each opening a rectification case for the unit concerned.

``rules`` holds the pure checks and the reading of an e-mail; ``services`` registers a complaint (one transaction,
the case opened by rectification.services); ``mail`` reads IMAP mailboxes (``tasks``: every quarter hour);
``api`` takes 12345 work orders in batch; ``views`` are the intake form, the list and a complaint's page.
docs/supervision.md describes the flow.
"""
