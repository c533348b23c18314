"""Swarm stacks: target detection, the hardening strategies and node-setup."""
