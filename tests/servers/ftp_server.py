"""A real FTP server for the tests: pyftpdlib with one user, optionally FTPS (explicit AUTH TLS, TLS required)."""
import argparse

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--directory", required=True)
parser.add_argument("--user", required=True)
parser.add_argument("--password", required=True)
parser.add_argument("--cert")
parser.add_argument("--key")
args = parser.parse_args()

authorizer = DummyAuthorizer()
authorizer.add_user(args.user, args.password, args.directory, perm="elradfmwMT")

if args.cert:
    handler = TLS_FTPHandler
    handler.certfile = args.cert
    handler.keyfile = args.key
    handler.tls_control_required = True
    handler.tls_data_required = True
else:
    handler = FTPHandler

handler.authorizer = authorizer
handler.banner = "EdgeRouter test FTP server ready."
handler.permit_foreign_addresses = False

server = FTPServer(("127.0.0.1", args.port), handler)
server.max_cons = 256
server.max_cons_per_ip = 256
server.serve_forever()
