"""A stand-in for a proxy that went away under an open page: it serves the
page and its assets as the proxy served them (files in DIR), and drops
every other request without an answer, as a broken port-forward does.
Prints the port it listens on; stops after SECONDS.

Usage: dead_proxy.py DIR SECONDS
"""
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

root, seconds = sys.argv[1], float(sys.argv[2])
types = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        name = "index.html" if self.path == "/" else self.path.lstrip("/")
        path = os.path.join(root, name)
        if not (self.path == "/" or self.path.startswith("/ui/page-")) \
                or not os.path.isfile(path):
            # Not the page: no answer at all.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", types[os.path.splitext(name)[1]])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(seconds, server.shutdown).start()
server.serve_forever()
