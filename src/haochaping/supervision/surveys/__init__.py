"""监督查评 surveys (R3.7): a management agency builds a questionnaire (single and multiple choice, scale, text;
themes 政策知悉度、办事便利度、服务满意度), targets it (region subtree, service item, people who completed an item
in a period), distributes it by SMS link, QR code and web link, collects one answer per person (anonymous or
real-name) and reads the results with charts, filters and an Excel export. A launched survey's questions never
change: revising it makes a new version.

``rules`` validates answers and scores scales (pure); ``services`` builds, launches, revises, distributes and
records answers; ``results`` reads them (charts, export, ``survey_scores`` for the appraisal); ``views`` are the
agency's pages and ``public`` the answering page. docs/surveys-and-sampling.md.
"""
