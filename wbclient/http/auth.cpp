#include "wbclient/http/auth.hpp"

#include "wbclient/model/text.hpp"
#include "wbclient/http/url.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace wbclient {
namespace {

// RFC 7230 tchar: what a scheme, a parameter name or an unquoted value is made of.
bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over one header value.
struct Scanner {
    std::string_view text;
    std::size_t at = 0;

    bool done() const { return at >= text.size(); }
    char peek() const { return done() ? '\0' : text[at]; }
    void skip_spaces() {
        while (!done() && (text[at] == ' ' || text[at] == '\t')) ++at;
    }
    void skip_spaces_and_commas() {
        while (!done() && (text[at] == ' ' || text[at] == '\t' || text[at] == ',')) ++at;
    }
    std::string_view token() {
        const std::size_t start = at;
        while (!done() && is_token_char(text[at])) ++at;
        return text.substr(start, at - start);
    }
    std::string quoted_string() {
        ++at;  // the opening quote
        std::string value;
        while (!done() && text[at] != '"') {
            if (text[at] == '\\' && at + 1 < text.size()) ++at;
            value += text[at++];
        }
        if (done()) throw std::invalid_argument("unterminated quoted string");
        ++at;  // the closing quote
        return value;
    }
    // After a comma: does `name =` follow (another parameter), or a new challenge?
    bool parameter_follows() const {
        Scanner ahead = *this;
        ahead.skip_spaces_and_commas();
        if (ahead.token().empty()) return false;
        ahead.skip_spaces();
        return ahead.peek() == '=';
    }
};

std::string base64(std::string_view bytes) {
    std::string encoded(4 * ((bytes.size() + 2) / 3), '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    encoded.resize(static_cast<std::size_t>(length));
    return encoded;
}

std::string url_escaped(const std::string& text) {
    std::unique_ptr<char, decltype(&curl_free)> escaped(
        curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size())), &curl_free);
    if (!escaped) throw std::runtime_error("out of memory escaping a URL parameter");
    return escaped.get();
}

std::vector<std::string> split_on_spaces(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find(' ', start), text.size());
        if (end > start) parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// An identity token (docker login's OAuth2 refresh token) is exchanged by the spec's POST form,
// never sent as a password.
Request refresh_token_request(const std::string& realm, const Challenge& challenge, const std::string& token) {
    Request request{.method = "POST", .url = realm};
    request.headers.add("Content-Type", "application/x-www-form-urlencoded");
    request.body = "grant_type=refresh_token&service=" + url_escaped(challenge.parameter("service")) +
                   "&client_id=registry-workbook&refresh_token=" + url_escaped(token);
    for (const std::string& scope : split_on_spaces(challenge.parameter("scope")))
        request.body += "&scope=" + url_escaped(scope);
    return request;
}

std::string scope_text(const std::string& scope) { return scope.empty() ? "(no scope)" : scope; }

}  // namespace

bool Challenge::is(std::string_view name) const { return equals_ignoring_case(scheme, name); }

std::string Challenge::parameter(const std::string& name) const {
    const auto found = parameters.find(lower(name));
    return found == parameters.end() ? "" : found->second;
}

std::vector<Challenge> parse_challenges(std::string_view value) {
    std::vector<Challenge> challenges;
    Scanner in{value};
    in.skip_spaces_and_commas();
    while (!in.done()) {
        Challenge challenge{.scheme = std::string(in.token()), .parameters = {}};
        if (challenge.scheme.empty())
            throw std::invalid_argument("not a Www-Authenticate challenge: unexpected '" +
                                        std::string(1, in.peek()) + "'");
        in.skip_spaces();
        while (!in.done() && in.peek() != ',') {
            const std::size_t start = in.at;
            const std::string name = lower(in.token());
            in.skip_spaces();
            // `name=` then another '=', a comma or the end is token68's padding, not a parameter.
            const char after_equals = in.at + 1 < value.size() ? value[in.at + 1] : '\0';
            if (name.empty() || in.peek() != '=' || after_equals == '=' || after_equals == ',' ||
                after_equals == '\0') {
                // token68 (e.g. `Negotiate abc==`): the rest up to a comma, kept whole.
                in.at = start;
                while (!in.done() && in.peek() != ',' && in.peek() != ' ') ++in.at;
                challenge.parameters["token68"] = std::string(value.substr(start, in.at - start));
                in.skip_spaces();
                break;
            }
            ++in.at;  // '='
            in.skip_spaces();
            challenge.parameters[name] = in.peek() == '"' ? in.quoted_string() : std::string(in.token());
            in.skip_spaces();
            if (in.peek() == ',' && in.parameter_follows()) {
                ++in.at;
                in.skip_spaces_and_commas();
            }
        }
        challenges.push_back(std::move(challenge));
        in.skip_spaces_and_commas();
    }
    return challenges;
}

std::vector<Challenge> challenges_of(const Response& response) {
    std::vector<Challenge> all;
    for (const auto& [name, value] : response.headers.fields())
        if (equals_ignoring_case(name, "Www-Authenticate")) {
            std::vector<Challenge> parsed;
            try {
                parsed = parse_challenges(value);
            } catch (const std::invalid_argument& error) {
                // Name the header: "unterminated quoted string" alone says nothing to a reader.
                throw std::invalid_argument("the registry's Www-Authenticate '" + printable(value) +
                                            "' is malformed: " + error.what());
            }
            for (auto& challenge : parsed) all.push_back(std::move(challenge));
        }
    return all;
}

std::string basic_authorization(const Credentials& credentials) {
    if (credentials.username.find(':') != std::string::npos)
        throw std::invalid_argument("a user name for Basic authentication cannot contain ':'");
    return "Basic " + base64(credentials.username + ":" + credentials.password);
}

Token fetch_token(HttpClient& http, const Challenge& challenge,
                  const std::optional<Credentials>& credentials) {
    const std::string realm = challenge.parameter("realm");
    bool has_query = false;
    try {
        has_query = !Url(realm).query().empty();
    } catch (const std::invalid_argument&) {
        throw std::runtime_error("the Bearer challenge's realm '" + printable(realm) + "' is not an http(s) URL");
    }
    const bool refresh = credentials && !credentials->identity_token.empty();
    //! [token_request]
    // The spec's query: service once, each scope of the challenge as a scope parameter.
    std::string url = realm + (has_query ? "&" : "?") +
                      "service=" + url_escaped(challenge.parameter("service"));
    for (const std::string& scope : split_on_spaces(challenge.parameter("scope")))
        url += "&scope=" + url_escaped(scope);
    if (credentials) url += "&account=" + url_escaped(credentials->username);
    Request request{.method = "GET", .url = url};
    if (credentials) request.headers.add("Authorization", basic_authorization(*credentials));
    //! [token_request]
    if (refresh) request = refresh_token_request(realm, challenge, credentials->identity_token);

    const Response response = http.perform(request);
    // The realm's URL and status only: never its body, which might echo what was sent.
    if (response.status == 401)
        throw std::runtime_error("the token server " + realm + " refused " +
                                 (refresh       ? std::string("the identity token")
                                  : credentials ? "the credentials of user '" + credentials->username + "'"
                                                : std::string("the credentials (none given)")) +
                                 ": 401");
    if (response.status != 200)
        throw std::runtime_error("the token server " + realm + " answered " +
                                 std::to_string(response.status) + " for scope " +
                                 scope_text(challenge.parameter("scope")));
    const auto json = nlohmann::json::parse(response.body, nullptr, false);
    std::string value;
    for (const char* field : {"token", "access_token"})
        if (json.is_object() && json.contains(field) && json[field].is_string() && value.empty())
            value = json[field].get<std::string>();
    if (value.empty())
        throw std::runtime_error("the token server " + realm + " answered without a token");
    // The spec's default lifetime is 60 seconds; renew a little early.
    long lifetime = 60;
    if (json.contains("expires_in") && json["expires_in"].is_number_integer())
        lifetime = std::max(json["expires_in"].get<long>(), 1L);
    return Token{.value = std::move(value),
                 .scope = challenge.parameter("scope"),
                 .expires = std::chrono::steady_clock::now() +
                            std::chrono::seconds(lifetime > 10 ? lifetime - 5 : lifetime)};
}

nlohmann::json jwt_claims(std::string_view token) {
    const auto first = token.find('.');
    const auto second = token.find('.', first == std::string_view::npos ? 0 : first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos)
        throw std::invalid_argument("not a JWT (three dot-separated parts expected)");
    // base64url without padding -> base64, which OpenSSL decodes.
    std::string payload(token.substr(first + 1, second - first - 1));
    for (auto& c : payload) c = c == '-' ? '+' : c == '_' ? '/' : c;
    const std::size_t padding = (4 - payload.size() % 4) % 4;
    payload.append(padding, '=');
    std::string decoded(payload.size() / 4 * 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                       reinterpret_cast<const unsigned char*>(payload.data()),
                                       static_cast<int>(payload.size()));
    if (length < 0) throw std::invalid_argument("a JWT's claims are not base64url");
    decoded.resize(static_cast<std::size_t>(length) - padding);
    return nlohmann::json::parse(decoded);
}

std::string unsigned_jwt(const nlohmann::json& claims) {
    const auto base64url = [](const std::string& bytes) {
        std::string text = base64(bytes);
        while (!text.empty() && text.back() == '=') text.pop_back();
        for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
        return text;
    };
    return base64url(R"({"typ":"JWT","alg":"none"})") + "." + base64url(claims.dump()) + ".";
}

std::string resource_of(std::string_view url) {
    const std::string whole_path = Url(url).path();
    const std::string_view path = whole_path;
    if (path.starts_with("/v2/_catalog")) return "registry:catalog";
    if (!path.starts_with("/v2/")) return "";
    // The name may hold slashes: it ends where the last API part begins.
    std::size_t end = std::string_view::npos;
    for (const char* part : {"/manifests/", "/blobs/", "/tags/"})
        if (const auto at = path.rfind(part); at != std::string_view::npos && at > 3)
            end = end == std::string_view::npos ? at : std::max(end, at);
    if (end == std::string_view::npos) return "";
    return "repository:" + std::string(path.substr(4, end - 4));
}

RegistryAuth::RegistryAuth(std::optional<Credentials> credentials, HttpClient token_client)
    : credentials_(std::move(credentials)), token_client_(std::move(token_client)) {}

void RegistryAuth::set_narrator(std::function<void(const std::string&)> narrator) {
    const std::lock_guard lock(mutex_);
    narrator_ = std::move(narrator);
}

void RegistryAuth::narrate(const std::string& line) const {
    if (narrator_) narrator_(line);
}

const Token* RegistryAuth::token_for(const std::string& resource) {
    const auto scope = scope_of_.find(resource);
    if (scope == scope_of_.end()) return nullptr;
    const auto token = tokens_.find(scope->second);
    if (token == tokens_.end()) return nullptr;
    if (token->second.expires <= std::chrono::steady_clock::now()) {
        tokens_.erase(token);  // expired: the registry would answer invalid_token
        return nullptr;
    }
    return &token->second;
}

int RegistryAuth::tokens_fetched() const {
    const std::lock_guard lock(mutex_);
    return tokens_fetched_;
}

int RegistryAuth::requests_with_cached_token() const {
    const std::lock_guard lock(mutex_);
    return reused_;
}

std::optional<std::string> RegistryAuth::authorization(const Request& request) {
    const std::lock_guard lock(mutex_);
    if (send_basic_ && credentials_) return basic_authorization(*credentials_);
    if (const Token* token = token_for(resource_of(request.url))) {
        ++reused_;
        return "Bearer " + token->value;
    }
    return std::nullopt;
}

bool RegistryAuth::unauthorized(const Request& request, const Response& response) {
    const std::lock_guard lock(mutex_);
    const std::vector<Challenge> challenges = challenges_of(response);
    for (const Challenge& challenge : challenges) {
        if (challenge.is("Basic")) {
            narrate("401, challenge: Basic realm=\"" + challenge.parameter("realm") + "\"");
            // Credentials already sent and refused: another try would be refused too.
            if (!credentials_ || send_basic_) return false;
            if (!credentials_->identity_token.empty()) {
                narrate("  an identity token is for token servers only: no Basic credentials to send");
                return false;
            }
            send_basic_ = true;
            narrate("  sending Basic credentials of user '" + credentials_->username + "' from now on");
            return true;
        }
        if (!challenge.is("Bearer")) continue;
        const std::string scope = challenge.parameter("scope");
        const std::string error = challenge.parameter("error");
        const std::string resource = resource_of(request.url);
        narrate("401, challenge: Bearer scope=" + scope_text(scope) +
                (error.empty() ? "" : " error=" + error));
        if (const Token* used = token_for(resource); used && !error.empty()) {
            // The token server granted less than this scope: asking again gets the same.
            if (error == "insufficient_scope" && used->scope == scope) return false;
            // Not good at all (bad signature, expired, another service's): never send it again.
            if (error == "invalid_token") tokens_.erase(used->scope);
        }
        const auto mapped = scope_of_.find(resource);
        if (const auto cached = tokens_.find(scope);
            cached != tokens_.end() && cached->second.expires > std::chrono::steady_clock::now() &&
            (mapped == scope_of_.end() || mapped->second != scope)) {
            scope_of_[resource] = scope;  // a token we already hold covers it
            narrate("  re-using the cached token for " + scope_text(scope));
            return true;
        }
        Token token = fetch_token(token_client_, challenge, credentials_);
        ++tokens_fetched_;
        narrate("  fetched a token for " + scope_text(scope) + " from " + challenge.parameter("realm"));
        tokens_[scope] = std::move(token);
        scope_of_[resource] = scope;
        return true;
    }
    return false;
}

nlohmann::json RegistryAuth::claims_for(const std::string& resource) const {
    const std::lock_guard lock(mutex_);
    const auto scope = scope_of_.find(resource);
    if (scope == scope_of_.end()) return nullptr;
    const auto token = tokens_.find(scope->second);
    return token == tokens_.end() ? nlohmann::json(nullptr) : jwt_claims(token->second.value);
}

}  // namespace wbclient
