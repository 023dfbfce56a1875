"""Getting the weights: mirrors, resumable downloads with retries, verification
(fetch), and the getModels.sh command line (cli)."""
