"""The network refusal for machines where no network namespace can be made.

Loaded by the worker as `_snipcheck_network`; it imports nothing of snipcheck's.
"""



_NETWORK_OFF = "network access is off in snipcheck (allow it with `network: true` in snipcheck.yaml)"


def refuse_network():
    """Fallback where no network namespace can be made: refuse connections that leave the
    machine at the socket level. Loopback and Unix sockets stay usable."""
    import socket

    local_hosts = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", None}

    def is_local(address):
        if isinstance(address, (str, bytes)):  # AF_UNIX path
            return True
        host = address[0] if isinstance(address, tuple) and address else None
        return host in local_hosts or (isinstance(host, str) and host.startswith("127."))

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if not is_local(address):
            raise OSError(_NETWORK_OFF)
        return original_connect(self, address)

    def connect_ex(self, address):
        if not is_local(address):
            raise OSError(_NETWORK_OFF)
        return original_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in local_hosts and not (isinstance(host, str) and host.startswith("127.")):
            raise socket.gaierror(_NETWORK_OFF)
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
