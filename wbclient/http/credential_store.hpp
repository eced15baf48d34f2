// The credential store docker, podman, skopeo and buildah share: where `docker login` and
// `podman login` leave what they were told, read the way those tools read it, so a reader's
// login works in every chapter. Files only, plus the docker-credential-<name> helpers they
// name; the library reads no environment variable, so where to look is passed in
// (credential_search_list builds the tools' list from values a program read).
#pragma once

#include "wbclient/http/auth.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// A credential file: docker's config.json and the containers auth.json share one format
/// (`auths`, `credHelpers`, `credsStore`); the legacy ~/.dockercfg is the `auths` object alone.
struct CredentialFile {
    std::filesystem::path path;
    bool legacy_format = false;  ///< ~/.dockercfg: {"host": {"auth": ...}}, keys may be URLs
};

/// Where to look, in order (the first file that knows the registry wins), and how to run helpers.
struct CredentialStoreOptions {
    std::vector<CredentialFile> files;
    /// Where `docker-credential-<name>` programs are looked for, in order (a program splits PATH).
    std::vector<std::filesystem::path> helper_directories;
    /// A helper that has not answered by then is killed and the lookup fails.
    std::chrono::milliseconds helper_timeout{10000};
};

/// The values the tools' search list depends on, as a program read them from its environment
/// ("" for unset). `uid` names `/run/containers/<uid>/` when XDG_RUNTIME_DIR is unset.
struct CredentialEnvironment {
    std::string registry_auth_file;  ///< REGISTRY_AUTH_FILE
    std::string xdg_runtime_dir;     ///< XDG_RUNTIME_DIR
    std::string xdg_config_home;     ///< XDG_CONFIG_HOME
    std::string home;                ///< HOME
    std::string docker_config;       ///< DOCKER_CONFIG (a folder holding config.json)
    unsigned long uid = 0;
};

/// The files podman, skopeo and buildah read (containers/image, containers-auth.json(5)), in
/// their order: REGISTRY_AUTH_FILE alone when set (an explicit override ends the search);
/// otherwise `$XDG_RUNTIME_DIR/containers/auth.json` (or `/run/containers/<uid>/auth.json`),
/// $XDG_CONFIG_HOME/containers/auth.json (or $HOME/.config/containers/auth.json),
/// $DOCKER_CONFIG/config.json (or $HOME/.docker/config.json: where docker itself looks),
/// and $HOME/.dockercfg (legacy format). Entries whose variable is empty are left out.
std::vector<CredentialFile> credential_search_list(const CredentialEnvironment& environment);

/// Credentials found, and where: `auths of <file>`, or
/// `docker-credential-<name> (credHelpers of <file>)`. Never holds a secret in `source`.
struct StoredCredentials {
    Credentials credentials;
    std::string source;
};

/// A credential store that cannot be read: a file that is not JSON or has a malformed entry,
/// a helper that is missing, fails, hangs or prints garbage. One line, naming the file or the
/// helper, never a secret (no file content, no helper output is quoted).
class CredentialError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The key docker uses for a registry: "https://index.docker.io/v1/" for Docker Hub (docker.io,
/// index.docker.io, registry-1.docker.io), the host[:port] itself for every other registry.
std::string docker_server_key(std::string_view registry);

/// One `docker-credential-<name> get`: `server` on stdin, `{"ServerURL","Username","Secret"}`
/// on stdout; nullopt when the helper answers "credentials not found". A Username of
/// `<token>` makes Secret an identity token. Throws CredentialError.
std::optional<Credentials> credential_helper_get(const std::string& helper, const std::string& server,
                                                 const CredentialStoreOptions& options);

/// Reads the store. Nothing is read or run until find() is called.
class CredentialStore {
public:
    explicit CredentialStore(CredentialStoreOptions options);

    /// Credentials for `registry` ("host:port", as in a reference), found as docker and the
    /// containers tools find them. In each file, in order: `credHelpers` for the registry
    /// (that helper alone decides), else `credsStore` (docker's native store, used for every
    /// registry), else `auths` (base64 "user:password" in `auth`, or `identitytoken`). Keys
    /// match exactly first, then normalised: a scheme and path dropped ("https://host:5000/v1/"
    /// is host:5000) and Docker Hub's names treated as one. Files that do not exist are
    /// skipped; a file or helper that knows nothing about the registry passes to the next.
    /// nullopt when no file knows it. Throws CredentialError.
    std::optional<StoredCredentials> find(std::string_view registry) const;

    const CredentialStoreOptions& options() const { return options_; }

private:
    CredentialStoreOptions options_;
};

}  // namespace wbclient
