"""Completion webhooks (`notify_url`): the operator's host allowlist, the signature, the outbox
written with the job's end, and the delivery loop of every process that runs workers."""
