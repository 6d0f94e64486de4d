"""The local stack: Kafka (KRaft), Redis and the services, started from the repo's own files.

Also used by the test session fixtures, with their own ports and state directories.
"""
