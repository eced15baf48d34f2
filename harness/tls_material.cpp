#include "tls_material.hpp"

#include "program_runner.hpp"

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace harness {
namespace {

void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    const RunResult result = run_program(args, {.timeout = std::chrono::seconds(60)});
    if (result.exit_code != 0)
        throw std::runtime_error("openssl " + args[1] + " failed (Debian package openssl): " + result.err);
}

// A new P-256 key and either a self-signed certificate (`-x509`) or a signing request.
std::vector<std::string> new_p256_key(const fs::path& key) {
    return {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            key.string()};
}

}  // namespace

TlsMaterial make_tls_material(const fs::path& folder) {
    fs::create_directories(folder);
    const TlsMaterial made{folder / "ca.crt", folder / "server.crt", folder / "server.key"};
    const fs::path ca_key = folder / "ca.key", request = folder / "server.csr",
                   extensions = folder / "server.ext";

    auto ca = new_p256_key(ca_key);
    ca.insert(ca.end(), {"-x509", "-days", "2", "-subj", "/CN=Registry Workbook test CA", "-out",
                         made.ca_certificate.string(), "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    openssl(ca);

    auto server = new_p256_key(made.server_key);
    server.insert(server.end(), {"-subj", "/CN=127.0.0.1", "-out", request.string()});
    openssl(server);
    // Go (the registry) and libcurl match the host against subjectAltName only, never the CN.
    std::ofstream(extensions) << "basicConstraints=critical,CA:FALSE\n"
                                 "keyUsage=critical,digitalSignature\n"
                                 "extendedKeyUsage=serverAuth\n"
                                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    openssl({"x509", "-req", "-in", request.string(), "-CA", made.ca_certificate.string(), "-CAkey",
             ca_key.string(), "-CAcreateserial", "-days", "2", "-extfile", extensions.string(),
             "-out", made.server_certificate.string()});
    return made;
}

SigningKey make_signing_key(const fs::path& folder) {
    fs::create_directories(folder);
    const SigningKey made{folder / "token-signing.key", folder / "token-signing.crt"};
    auto key = new_p256_key(made.private_key);
    key.insert(key.end(), {"-x509", "-days", "2", "-subj", "/CN=Registry Workbook token server",
                           "-out", made.certificate.string()});
    openssl(key);
    return made;
}

}  // namespace harness
