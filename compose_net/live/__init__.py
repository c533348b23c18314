"""Live checks: what running containers publish (audit) and what answers from outside (probe).

``bindings`` and ``declared`` are pure; ``audit`` is the only module that talks to Docker (its
SDK is imported when a connection is made); ``probe`` only ever connects to the address given.
"""
