"""Swarm stacks: hardening strategies that hold under ``docker stack deploy``, and node setup.

``docker stack deploy`` ignores host IPs, so a stack file cannot be hardened by binding
addresses. ``strategies`` removes or changes publications instead (minimal text edits,
proven like ``harden``); ``nodesetup`` prints the per-node engine setup that makes
host-mode publishing bind to a node's internal IPv4 address.
"""
