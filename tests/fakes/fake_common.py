"""What every loopback fake shares: announcing the chosen port and serving until stopped."""
import os
import sys


def serve(server, name, host, port_file):
    """Writes the bound port to port_file atomically (tests wait for it), then serves."""
    port = server.server_address[1]
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, port_file)
    sys.stderr.write(f"{name}: listening on http://{host}:{port}\n")
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
