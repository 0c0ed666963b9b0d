"""archiver: capture news articles as verifiable WARC evidence and report the edits that matter."""

__version__ = "0.1.0"
