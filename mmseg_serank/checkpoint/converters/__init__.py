"""One module per peer network, each defining ``PEER`` (a :class:`PeerSpec`).

Modules are imported on demand by :func:`mmseg_serank.checkpoint.get_peer`.
"""
