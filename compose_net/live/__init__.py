"""Live checks: what running containers publish (audit) and what answers from outside (probe).

``bindings``, ``declared`` and ``exposures`` are pure; ``audit`` and ``fleet`` talk to Docker
through its SDK (imported when a connection is made); ``watch`` follows engines' events through
``engineapi`` (the few API calls over asyncio, no SDK); ``metrics`` is the only module that
imports prometheus-client; ``probe`` only ever connects to the address given.
"""
