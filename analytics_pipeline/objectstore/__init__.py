"""Object storage over S3's API (boto3): where it is, how to sign for it, a client that speaks it."""
