"""通报 (§四(四)): a management agency issues bulletins of typical cases (bad ones that caused harm, and good
practice worth copying) to the units of its subtree; each unit acknowledges receipt; the agency sees who has not,
and may make a bulletin public (the portal, in disclosure, reads the published ones)."""
