"""The plaza's own HTTP API (beyond what the Hugging Face clients speak): jobs."""
