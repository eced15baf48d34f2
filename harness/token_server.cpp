#include "token_server.hpp"

#include "scripted_server.hpp"

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <set>
#include <stdexcept>

namespace harness {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct SigFree {
    void operator()(ECDSA_SIG* signature) const { ECDSA_SIG_free(signature); }
};
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string base64url(std::string_view bytes) {
    std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    encoded.resize(static_cast<std::size_t>(length));
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
    for (auto& c : encoded) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return encoded;
}

std::string base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return {};
    std::string decoded(text.size() / 4 * 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                       reinterpret_cast<const unsigned char*>(text.data()),
                                       static_cast<int>(text.size()));
    if (length < 0) return {};
    std::size_t padding = 0;
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++padding;
    decoded.resize(static_cast<std::size_t>(length) - padding);
    return decoded;
}

std::string url_decoded(std::string_view text) {
    int length = 0;
    std::unique_ptr<char, decltype(&curl_free)> decoded(
        curl_easy_unescape(nullptr, std::string(text).c_str(), static_cast<int>(text.size()), &length),
        &curl_free);
    return decoded ? std::string(decoded.get(), static_cast<std::size_t>(length)) : std::string();
}

// libtrust's key ID, which registry 2.x matches against a JWT header's `kid`: SHA-256 of the
// DER SubjectPublicKeyInfo, its first 240 bits in base32 (48 characters), 12 groups of 4.
std::string libtrust_key_id(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int der_length = i2d_PUBKEY(key, &der);
    if (der_length <= 0) throw std::runtime_error("cannot encode the token server's public key");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    const int hashed = EVP_Digest(der, static_cast<std::size_t>(der_length), digest, &digest_length,
                                  EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (!hashed) throw std::runtime_error("cannot hash the token server's public key");
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string base32;
    for (std::size_t bit = 0; bit < 240; bit += 5) {
        unsigned value = 0;
        for (std::size_t b = bit; b < bit + 5; ++b)
            value = (value << 1) | ((digest[b / 8] >> (7 - b % 8)) & 1u);
        base32 += alphabet[value];
    }
    std::string key_id;
    for (std::size_t i = 0; i < base32.size(); i += 4) key_id += (i ? ":" : "") + base32.substr(i, 4);
    return key_id;
}

std::string rfc3339(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

}  // namespace

struct TokenServer::State {
    TokenServerConfig config;
    std::unique_ptr<EVP_PKEY, PkeyFree> key;
    std::string key_id;
    mutable std::mutex mutex;
    std::vector<TokenRequest> requests;
    std::vector<std::string> issued;
    std::unique_ptr<ScriptedServer> server;  // last: stopped first, while the rest still lives

    std::string sign(const nlohmann::json& claims) const {
        const nlohmann::json header = {{"typ", "JWT"}, {"alg", "ES256"}, {"kid", key_id}};
        const std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
        std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
        std::size_t der_length = 0;
        if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
            EVP_DigestSign(context.get(), nullptr, &der_length,
                           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
            throw std::runtime_error("cannot sign a token");
        std::vector<unsigned char> der(der_length);
        if (EVP_DigestSign(context.get(), der.data(), &der_length,
                           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
            throw std::runtime_error("cannot sign a token");
        // OpenSSL writes ECDSA signatures in DER; JWS (RFC 7518) wants r and s, 32 bytes each.
        const unsigned char* cursor = der.data();
        std::unique_ptr<ECDSA_SIG, SigFree> signature(
            d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_length)));
        if (!signature) throw std::runtime_error("cannot read back a token's signature");
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        return signing_input + "." + base64url(raw);
    }

    // The actions of `requested` that the user's grants allow on `name`.
    static nlohmann::json allowed(const TokenUser& user, const std::string& type, const std::string& name,
                                  const std::vector<std::string>& requested) {
        std::set<std::string> granted;
        for (const TokenGrant& grant : user.grants) {
            // The catalog (registry:catalog:*) is for users granted everything everywhere.
            const bool matches = type == "repository" ? grant.repository == "*" || grant.repository == name
                                                      : grant.repository == "*" && type == "registry";
            if (!matches) continue;
            for (const std::string& action : requested)
                for (const std::string& may : grant.actions)
                    if (may == "*" || may == action) granted.insert(action);
        }
        nlohmann::json actions = nlohmann::json::array();
        for (const std::string& action : requested)
            if (granted.count(action) && std::find(actions.begin(), actions.end(), action) == actions.end())
                actions.push_back(action);
        return actions;
    }

    ScriptedResponse answer(const ScriptedRequest& request) {
        ScriptedResponse response{.status = 200, .headers = {{"Content-Type", "application/json"}}};
        const std::string& target = request.target;
        if (request.method != "GET" || !(target == "/token" || target.starts_with("/token?"))) {
            response.status = 404;
            response.body = R"({"errors":[{"code":"NOT_FOUND","message":"only GET /token"}]})";
            return response;
        }
        TokenRequest seen;
        if (const auto query = target.find('?'); query != std::string::npos)
            for (const std::string& pair : split(std::string_view(target).substr(query + 1), '&')) {
                const auto equals = pair.find('=');
                const std::string name = url_decoded(pair.substr(0, equals));
                const std::string value = equals == std::string::npos ? "" : url_decoded(pair.substr(equals + 1));
                if (name == "service") seen.service = value;
                if (name == "scope") seen.scopes.push_back(value);
            }

        // Basic credentials, checked against the table; none at all is the anonymous user "".
        std::string password;
        bool known = false;
        if (const std::string authorization = request.header("Authorization"); !authorization.empty()) {
            const std::string_view value(authorization);
            const std::string decoded = value.starts_with("Basic ") ? base64_decode(value.substr(6)) : "";
            const auto colon = decoded.find(':');
            seen.account = decoded.substr(0, colon);
            password = colon == std::string::npos ? "" : decoded.substr(colon + 1);
            const auto user = config.users.find(seen.account);
            known = colon != std::string::npos && user != config.users.end() && !seen.account.empty() &&
                    user->second.password == password;
        } else {
            known = config.users.count("") > 0;
        }
        if (!known || seen.service != config.service) {
            seen.status = 401;
            response.status = 401;
            response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"registry-workbook token server\"");
            response.body = known ? R"({"errors":[{"code":"DENIED","message":"unknown service"}]})"
                                    : R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})";
            std::lock_guard lock(mutex);
            requests.push_back(std::move(seen));
            return response;
        }

        const TokenUser& user = config.users.at(seen.account);
        nlohmann::json access = nlohmann::json::array();
        for (const std::string& scope : seen.scopes) {
            // type:name:actions, where only the name may itself contain ':' (host:port/name).
            const auto first = scope.find(':'), last = scope.rfind(':');
            if (first == std::string::npos || first == last) continue;
            const std::string type = scope.substr(0, first), name = scope.substr(first + 1, last - first - 1);
            const nlohmann::json actions = allowed(user, type, name, split(scope.substr(last + 1), ','));
            if (!actions.empty()) access.push_back({{"type", type}, {"name", name}, {"actions", actions}});
        }
        const auto now = std::chrono::system_clock::now();
        const auto epoch = [](auto time) {
            return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
        };
        unsigned char nonce[16];
        RAND_bytes(nonce, sizeof nonce);
        const nlohmann::json claims = {
            {"iss", config.issuer},
            {"sub", seen.account},
            {"aud", config.service},  // a string: registry 2.8 refuses a list here
            {"exp", epoch(now + std::chrono::seconds(config.lifetime_seconds))},
            {"nbf", epoch(now - std::chrono::seconds(10))},
            {"iat", epoch(now)},
            {"jti", base64url(std::string_view(reinterpret_cast<const char*>(nonce), sizeof nonce))},
            {"access", access}};
        const std::string token = sign(claims);
        response.body = nlohmann::json{{"token", token},
                                         {"access_token", token},
                                         {"expires_in", config.lifetime_seconds},
                                         {"issued_at", rfc3339(now)}}
                              .dump();
        seen.status = 200;
        seen.access = access;
        std::lock_guard lock(mutex);
        requests.push_back(std::move(seen));
        issued.push_back(token);
        return response;
    }
};

TokenServer::TokenServer(TokenServerConfig config) : state_(std::make_unique<State>()) {
    state_->config = std::move(config);
    std::unique_ptr<BIO, BioFree> file(BIO_new_file(state_->config.signing_key.c_str(), "r"));
    if (file) state_->key.reset(PEM_read_bio_PrivateKey(file.get(), nullptr, nullptr, nullptr));
    if (!state_->key || EVP_PKEY_get_base_id(state_->key.get()) != EVP_PKEY_EC)
        throw std::runtime_error("no EC private key in " + state_->config.signing_key.string());
    state_->key_id = libtrust_key_id(state_->key.get());
    state_->server = std::make_unique<ScriptedServer>(
        RequestHandler([state = state_.get()](const ScriptedRequest& request) { return state->answer(request); }));
}

TokenServer::~TokenServer() = default;

std::string TokenServer::realm() const {
    return "http://" + state_->server->host_port() + "/token";
}

const std::string& TokenServer::key_id() const { return state_->key_id; }

std::vector<TokenRequest> TokenServer::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

std::vector<std::string> TokenServer::issued_tokens() const {
    std::lock_guard lock(state_->mutex);
    return state_->issued;
}

std::string TokenServer::sign(const nlohmann::json& claims) const { return state_->sign(claims); }

}  // namespace harness
