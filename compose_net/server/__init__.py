"""``compose-net server``: the findings and fixes of ``check`` and ``harden`` in an editor.

:mod:`compose_net.server.analysis` is the one module that calls the engine (what ``check``
reports for a file of a project, with the texts of open documents over what is on disk,
and what ``harden`` would write); :mod:`compose_net.server.documents` is what start-up needs
(which documents, the editor's settings); :mod:`compose_net.server.lsp` speaks the Language
Server Protocol (pygls and lsprotocol, imported by this command alone).
"""
