// Keys and certificates for a test, made with the `openssl` command line into the workspace.
#pragma once

#include <filesystem>

namespace harness {

/// A private CA and a server certificate it signed, for 127.0.0.1 and localhost: what a
/// registry needs to serve HTTPS (http.tls.certificate, http.tls.key) and what a client
/// needs to trust it (the CA's certificate).
struct TlsMaterial {
    std::filesystem::path ca_certificate;
    std::filesystem::path server_certificate;
    std::filesystem::path server_key;
};
/// Writes ca.crt, server.crt and server.key (P-256, valid two days) into `folder`.
TlsMaterial make_tls_material(const std::filesystem::path& folder);

/// The key a token server signs with (P-256, for ES256) and a self-signed certificate of it:
/// the registry's auth.token.rootcertbundle.
struct SigningKey {
    std::filesystem::path private_key;
    std::filesystem::path certificate;
};
/// Writes token-signing.key and token-signing.crt into `folder`.
SigningKey make_signing_key(const std::filesystem::path& folder);

}  // namespace harness
