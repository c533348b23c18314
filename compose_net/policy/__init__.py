"""The policy core: every decision about a port, made once, used by every command.

* :mod:`~compose_net.policy.addresses`: what an address is (every interface, loopback,
  internal, public), with the configuration's ``internal-networks``;
* :mod:`~compose_net.policy.exposure`: whether a host IP, variables and all, can leave a
  port on all interfaces or a public address, and how it can be fixed;
* :mod:`~compose_net.policy.allowances`: ports meant to be public, and silenced findings;
* :mod:`~compose_net.policy.collisions`: host ports that clash, and where one can move;
* :mod:`~compose_net.policy.binds`: the node addresses ports are bound to.

Nothing here reads files or YAML: the rules hand it text and numbers.
"""
