"""A gRPC client that knows only a server's address: it learns every message type through
server reflection (grpc.reflection.v1alpha, as grpcio-reflection speaks it), so it needs no
.proto files. Shared by the end-to-end tests and the README's example."""

import threading

import grpc
from google.protobuf import descriptor_pool, json_format
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


class ReflectionClient:
    """Calls unary RPCs by full name with dict requests and dict replies."""

    def __init__(self, address: str, root_certificate: bytes | None = None):
        if root_certificate is None:
            self.channel = grpc.insecure_channel(address)
        else:
            self.channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=root_certificate))
        self.database = ProtoReflectionDescriptorDatabase(self.channel)
        self.pool = descriptor_pool.DescriptorPool(self.database)
        # The pool fetches files lazily and is not safe to fill from several threads at once.
        self.lock = threading.Lock()

    def services(self):
        return self.database.get_services()

    def call(self, method: str, request: dict | None = None, token: str | None = None, timeout: float = 30):
        """Calls e.g. "photovault.v1.AuthService/Login"; returns (reply dict, None) or (None, grpc.RpcError)."""
        service_name, method_name = method.split("/")
        with self.lock:
            service = self.pool.FindServiceByName(service_name)
            descriptor = service.FindMethodByName(method_name)
            request_class = GetMessageClass(descriptor.input_type)
            reply_class = GetMessageClass(descriptor.output_type)
        stub = self.channel.unary_unary(
            f"/{method}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=reply_class.FromString,
        )
        message = json_format.ParseDict(request or {}, request_class())
        metadata = [("authorization", f"Bearer {token}")] if token else None
        try:
            reply = stub(message, metadata=metadata, timeout=timeout)
        except grpc.RpcError as error:
            return None, error
        return json_format.MessageToDict(reply, preserving_proto_field_name=True), None

    def close(self):
        self.channel.close()
