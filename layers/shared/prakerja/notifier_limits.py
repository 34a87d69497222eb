"""The notifier's sizes: its stream batch, its timeout and the lease of a message's claim.

The function (prakerja.notifications) leases claims with them; the stack is to size the
notifier's timeout and stream batch from the same names (infra may import this module, which
must stay free of dependencies), so the lease cannot silently fall below the timeout.
"""

from __future__ import annotations

# Stream records per invocation. A message costs a claim, a profile read, a decryption, a
# Publish and a mark (about 0.2 s); ten leave the timeout a wide margin, where a hundred did not.
NOTIFIER_BATCH_SIZE = 10

# The function's timeout: ten messages' worth with room for slow calls and a cold start.
NOTIFIER_TIMEOUT_SECONDS = 30

# How long a claim keeps other deliveries off a message. The invocation that claimed it is
# stopped at the latest NOTIFIER_TIMEOUT_SECONDS after the claim, so a longer lease never lapses
# under a live sender; the other 30 s cover a Publish still in flight when it was stopped and
# clock differences between Lambda hosts. After it, a later retry may claim the message and send
# it: a crashed sender's message is texted, not lost (the stream's retries must outlast it).
NOTIFIER_CLAIM_LEASE_SECONDS = 2 * NOTIFIER_TIMEOUT_SECONDS
