#include "wbclient/http/credential_store.hpp"

#include "wbclient/http/helper_process.hpp"
#include "wbclient/http/url.hpp"
#include "wbclient/model/text.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace wbclient {
namespace {

// What `docker login` answers for Docker Hub, whichever of its names was used.
constexpr std::string_view docker_hub_key = "https://index.docker.io/v1/";

bool is_docker_hub(std::string_view host) {
    return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

// The registry a key names: "https://host:5000/v1/" -> "host:5000", "host:5000/ns/repo" ->
// "host:5000" (a namespace key: we look up registries, so it counts as its registry only if
// nothing more exact exists), Docker Hub's names -> "docker.io". "" for a key we cannot read.
std::string normalised_key(const std::string& key) {
    std::string host;
    if (key.find("://") != std::string::npos) {
        try {
            host = Url(key).authority();
        } catch (const std::invalid_argument&) {
            return "";
        }
    } else {
        host = lower(key.substr(0, key.find('/')));
    }
    return is_docker_hub(host) ? "docker.io" : host;
}

std::string normalised_registry(std::string_view registry) {
    const std::string host = lower(registry);
    return is_docker_hub(host) ? "docker.io" : host;
}

// The value under the key that names `registry` in `object`: exactly first (as the tools
// write it: "host:port", or docker's URL for Docker Hub), then any key that normalises to it.
const nlohmann::json* entry_for(const nlohmann::json& object, std::string_view registry) {
    if (!object.is_object()) return nullptr;
    for (const std::string& exact : {std::string(registry), docker_server_key(registry)})
        if (const auto found = object.find(exact); found != object.end()) return &*found;
    const std::string wanted = normalised_registry(registry);
    for (auto it = object.begin(); it != object.end(); ++it)
        if (it.key().find('/') == std::string::npos || it.key().find("://") != std::string::npos)
            if (normalised_key(it.key()) == wanted) return &*it;
    return nullptr;
}

std::optional<std::string> base64_decoded(const std::string& text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::string decoded(text.size() / 4 * 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                       reinterpret_cast<const unsigned char*>(text.data()),
                                       static_cast<int>(text.size()));
    if (length < 0) return std::nullopt;
    std::size_t padding = 0;
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++padding;
    decoded.resize(static_cast<std::size_t>(length) - std::min<std::size_t>(padding, 2));
    return decoded;
}

// One `auths` entry: base64 "user:password" in `auth`, and/or an `identitytoken`. nullopt for
// an empty entry (what docker writes beside a credsStore). Never quotes the entry.
std::optional<Credentials> from_auths_entry(const nlohmann::json& entry, const std::string& where) {
    if (!entry.is_object()) throw CredentialError("the auths entry for " + where + " is not a JSON object");
    const auto text = [&](const char* field) -> std::string {
        const auto found = entry.find(field);
        if (found == entry.end() || found->is_null()) return "";
        if (!found->is_string()) throw CredentialError("the auths entry for " + where + " has a '" + field + "' that is not a string");
        return found->get<std::string>();
    };
    const std::string auth = text("auth");
    const std::string identity_token = text("identitytoken");
    Credentials credentials;
    if (!auth.empty()) {
        const auto decoded = base64_decoded(auth);
        const auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos)
            throw CredentialError("the auths entry for " + where + " has an 'auth' that is not base64 of user:password");
        credentials.username = decoded->substr(0, colon);
        credentials.password = decoded->substr(colon + 1);
    }
    if (!identity_token.empty()) {
        credentials.identity_token = identity_token;
        credentials.password.clear();  // docker sends the token, never a password beside it
    }
    if (credentials.username.empty() && credentials.identity_token.empty()) return std::nullopt;
    return credentials;
}

// A file's JSON, or nullopt when it does not exist. nlohmann's own parse messages quote the
// bytes near the error, which could be a secret: ours name the file only.
std::optional<nlohmann::json> read_json(const fs::path& path) {
    std::error_code error;
    if (!fs::exists(path, error)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CredentialError("cannot read the credential file " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    nlohmann::json parsed = nlohmann::json::parse(text.str(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
        throw CredentialError("the credential file " + path.string() + " is not a JSON object");
    return parsed;
}

std::string helper_name(const nlohmann::json& value, const std::string& where) {
    if (!value.is_string() || value.get<std::string>().empty() ||
        value.get<std::string>().find('/') != std::string::npos)
        throw CredentialError(where + " names no usable credential helper (a name without '/' is expected)");
    return value.get<std::string>();
}

}  // namespace

std::vector<CredentialFile> credential_search_list(const CredentialEnvironment& environment) {
    if (!environment.registry_auth_file.empty()) return {{environment.registry_auth_file, false}};
    std::vector<CredentialFile> files;
    if (!environment.xdg_runtime_dir.empty())
        files.push_back({fs::path(environment.xdg_runtime_dir) / "containers/auth.json", false});
    else
        files.push_back({fs::path("/run/containers") / std::to_string(environment.uid) / "auth.json", false});
    if (!environment.xdg_config_home.empty())
        files.push_back({fs::path(environment.xdg_config_home) / "containers/auth.json", false});
    else if (!environment.home.empty())
        files.push_back({fs::path(environment.home) / ".config/containers/auth.json", false});
    if (!environment.docker_config.empty())
        files.push_back({fs::path(environment.docker_config) / "config.json", false});
    else if (!environment.home.empty())
        files.push_back({fs::path(environment.home) / ".docker/config.json", false});
    if (!environment.home.empty()) files.push_back({fs::path(environment.home) / ".dockercfg", true});
    return files;
}

std::string docker_server_key(std::string_view registry) {
    return normalised_registry(registry) == "docker.io" ? std::string(docker_hub_key) : lower(registry);
}

std::optional<Credentials> credential_helper_get(const std::string& helper, const std::string& server,
                                                 const CredentialStoreOptions& options) {
    const std::string program = "docker-credential-" + helper;
    fs::path found;
    for (const fs::path& directory : options.helper_directories) {
        std::error_code error;
        const fs::path candidate = directory / program;
        if (fs::is_regular_file(candidate, error) && ::access(candidate.c_str(), X_OK) == 0) {
            found = candidate;
            break;
        }
    }
    if (found.empty()) throw CredentialError("the credential helper " + program + " is not installed (not in the PATH)");

    HelperOutcome answer;
    try {
        answer = run_helper(found, {"get"}, server, options.helper_timeout);
    } catch (const std::runtime_error& error) {
        throw CredentialError("the credential helper " + program + " " + error.what());
    }
    const std::string asked = "the credential helper " + program + " (get " + server + ")";
    if (answer.timed_out)
        throw CredentialError(asked + " did not answer within " +
                              std::to_string(options.helper_timeout.count()) + " ms; it was stopped");
    if (answer.too_much) throw CredentialError(asked + " printed far more than a credential; it was stopped");
    // docker-credential-helpers' one error message with a meaning: nothing stored for it.
    const std::string trimmed = answer.out.substr(0, answer.out.find_last_not_of(" \r\n") + 1);
    if (trimmed == "credentials not found in native keychain") return std::nullopt;
    // Its output is not quoted: a failing helper may well print the secret it choked on.
    if (answer.exit_code != 0) throw CredentialError(asked + " failed (exit code " + std::to_string(answer.exit_code) + ")");
    const nlohmann::json reply = nlohmann::json::parse(answer.out, nullptr, false);
    const auto field = [&](const char* name) -> const nlohmann::json* {
        if (!reply.is_object()) return nullptr;
        const auto it = reply.find(name);
        return it != reply.end() && it->is_string() ? &*it : nullptr;
    };
    const nlohmann::json* username = field("Username");
    const nlohmann::json* secret = field("Secret");
    if (!username || !secret)
        throw CredentialError(asked + " printed something that is not the helper protocol's "
                              "{\"ServerURL\",\"Username\",\"Secret\"}");
    Credentials credentials;
    if (username->get<std::string>() == "<token>") {
        credentials.identity_token = secret->get<std::string>();
    } else {
        credentials.username = username->get<std::string>();
        credentials.password = secret->get<std::string>();
    }
    if (credentials.identity_token.empty() && credentials.username.empty())
        throw CredentialError(asked + " answered an empty user name");
    return credentials;
}

CredentialStore::CredentialStore(CredentialStoreOptions options) : options_(std::move(options)) {}

std::optional<StoredCredentials> CredentialStore::find(std::string_view registry) const {
    const std::string server = docker_server_key(registry);
    for (const CredentialFile& file : options_.files) {
        const std::optional<nlohmann::json> config = read_json(file.path);
        if (!config) continue;
        const std::string in_file = " of " + file.path.string();
        const std::string where = std::string(registry) + " in " + file.path.string();
        if (file.legacy_format) {
            if (const nlohmann::json* entry = entry_for(*config, registry))
                if (auto credentials = from_auths_entry(*entry, where))
                    return StoredCredentials{*credentials, "legacy auths" + in_file};
            continue;
        }
        if (const auto helpers = config->find("credHelpers"); helpers != config->end())
            if (const nlohmann::json* named = entry_for(*helpers, registry)) {
                const std::string helper = helper_name(*named, "credHelpers" + in_file);
                if (auto credentials = credential_helper_get(helper, server, options_))
                    return StoredCredentials{*credentials, "docker-credential-" + helper + " (credHelpers" + in_file + ")"};
                continue;  // that helper alone speaks for this registry in this file
            }
        if (const auto store = config->find("credsStore"); store != config->end() && !store->is_null()) {
            const std::string helper = helper_name(*store, "credsStore" + in_file);
            if (auto credentials = credential_helper_get(helper, server, options_))
                return StoredCredentials{*credentials, "docker-credential-" + helper + " (credsStore" + in_file + ")"};
            continue;
        }
        if (const auto auths = config->find("auths"); auths != config->end())
            if (const nlohmann::json* entry = entry_for(*auths, registry))
                if (auto credentials = from_auths_entry(*entry, where))
                    return StoredCredentials{*credentials, "auths" + in_file};
    }
    return std::nullopt;
}

}  // namespace wbclient
