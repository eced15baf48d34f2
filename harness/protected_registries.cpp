#include "protected_registries.hpp"

#include "program_runner.hpp"

#include "wbclient/http/auth.hpp"

#include <nlohmann/json.hpp>

#include <openssl/rand.h>

#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace harness {
namespace {


std::string random_password() {
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("OpenSSL could not make random bytes");
    static constexpr char hex[] = "0123456789abcdef";
    std::string password;
    for (const unsigned char b : bytes) {
        password += hex[b >> 4];
        password += hex[b & 0x0f];
    }
    return password;
}

}  // namespace

std::map<std::string, std::string> ProtectedRegistries::environment() const {
    return {{"WORKBOOK_AUTH_REGISTRY", basic->host_port()},
            {"WORKBOOK_TOKEN_REGISTRY", token->host_port()},
            {"WORKBOOK_TLS_REGISTRY", "https://" + tls->host_port()},
            {"WORKBOOK_CA_FILE", tls_material.ca_certificate.string()},
            {"REGISTRY_AUTH_FILE", auth_file.string()}};
}

ProtectedRegistries start_protected_registries(const fs::path& workdir) {
    return start_protected_registries(workdir, engine_from_environment());
}

ProtectedRegistries start_protected_registries(const fs::path& workdir, const std::string& engine) {
    ProtectedRegistries started;
    started.user = "alice";
    started.password = random_password();

    // htpasswd: bcrypt entries only, the one kind registry 2.8 accepts.
    const StorageFiles basic_files{workdir / "basic", engine};
    fs::create_directories(basic_files.on_host("auth"));
    const RunResult entry = run_program({"htpasswd", "-Bbn", started.user, started.password});
    if (entry.exit_code != 0)
        throw std::runtime_error("htpasswd failed (Debian package apache2-utils): " + entry.err);
    std::ofstream(basic_files.on_host("auth/htpasswd")) << entry.out.substr(0, entry.out.find('\n')) << "\n";
    started.basic = start_registry(
        {.role = "registry",
         .config_patch = {{"auth", {{"htpasswd", {{"realm", "registry-workbook"}, {"path", basic_files.in_registry("auth/htpasswd")}}}}}}},
        basic_files.workdir, engine);

    // Bearer tokens: the registry trusts the token server's signing certificate.
    const StorageFiles token_files{workdir / "token", engine};
    const SigningKey key = make_signing_key(token_files.on_host("auth"));
    started.tokens = std::make_unique<TokenServer>(TokenServerConfig{
        .signing_key = key.private_key,
        .users = {{started.user, {started.password, {{"*", {"pull", "push"}}}}}}});
    started.token = start_registry(
        {.role = "registry",
         .config_patch = {{"auth",
                           {{"token",
                             {{"realm", started.tokens->realm()},
                              {"service", "registry-workbook"},
                              {"issuer", "registry-workbook-token-server"},
                              {"rootcertbundle", token_files.in_registry("auth/token-signing.crt")}}}}}}},
        token_files.workdir, engine);

    // TLS with a CA of our own.
    const StorageFiles tls_files{workdir / "tls", engine};
    started.tls_material = make_tls_material(tls_files.on_host("tls"));
    started.tls = start_registry(
        {.role = "registry",
         .config_patch = {{"http",
                           {{"tls",
                             {{"certificate", tls_files.in_registry("tls/server.crt")},
                              {"key", tls_files.in_registry("tls/server.key")}}}}}}},
        tls_files.workdir, engine);

    // What `podman login` to each of them writes (base64 of user:password; podman keeps it so too).
    nlohmann::json auths = nlohmann::json::object();
    const std::string auth = wbclient::basic_authorization({started.user, started.password}).substr(6);
    for (const auto* registry : {started.basic.get(), started.token.get(), started.tls.get()})
        auths[registry->host_port()] = {{"auth", auth}};
    started.auth_file = workdir / "auth.json";
    std::ofstream(started.auth_file) << nlohmann::json{{"auths", auths}}.dump(1, '\t') << "\n";
    fs::permissions(started.auth_file, fs::perms::owner_read | fs::perms::owner_write);
    return started;
}

}  // namespace harness
