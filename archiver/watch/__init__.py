"""`archiver watch`: follow feeds, sitemaps and pages, capture new articles, re-capture known
ones on a decaying schedule, and report the edits that matter as events."""
