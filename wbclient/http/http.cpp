#include "wbclient/http/http.hpp"
#include "wbclient/model/text.hpp"

#include "wbclient/model/digest.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <stdexcept>

namespace wbclient {
namespace {

// libcurl's own words for the two failures a misbehaving server causes most ("Timeout was
// reached", "Transferred a partial file") do not say what the server did; say it, then quote them.
constexpr long connect_timeout_seconds = 10;

std::string describe_failure(CURL* curl, CURLcode result, std::chrono::seconds stall_timeout) {
    const std::string curl_says = curl_easy_strerror(result);
    if (result == CURLE_OPERATION_TIMEDOUT) {
        // Zero until a connection, new or reused, was ready to carry the request.
        curl_off_t ready_after = 0;
        curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &ready_after);
        if (ready_after == 0) return "no connection within " + std::to_string(connect_timeout_seconds) + " s (" +
                                          curl_says + ")";
        return "the server stalled: no byte moved for " + std::to_string(stall_timeout.count()) +
               " s (" + curl_says + ")";
    }
    if (result == CURLE_PARTIAL_FILE)
        return "the server closed the connection before the whole body arrived (" + curl_says + ")";
    return curl_says;
}

// What the last transfer on `curl` spoke, in the words of a status line. Asked of libcurl, not
// read off the status line: over HTTP/2 there is no status line on the wire at all.
std::string http_version_of(CURL* curl) {
    long version = 0;
    if (curl_easy_getinfo(curl, CURLINFO_HTTP_VERSION, &version) != CURLE_OK) return "";
    switch (version) {
        case CURL_HTTP_VERSION_1_0: return "HTTP/1.0";
        case CURL_HTTP_VERSION_1_1: return "HTTP/1.1";
        case CURL_HTTP_VERSION_2_0: return "HTTP/2";
        case CURL_HTTP_VERSION_3: return "HTTP/3";
        default: return "";  // 0: no answer came
    }
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

// libcurl's one piece of global state, initialised once before the first handle.
void init_curl_once() {
    static const bool initialised = [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw std::runtime_error("libcurl global initialisation failed");
        return true;
    }();
    (void)initialised;
}

struct CurlCleanup {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistFree {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

void Headers::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Headers::get(std::string_view name) const {
    for (const auto& [field, value] : fields_)
        if (equals_ignoring_case(field, name)) return value;
    return std::nullopt;
}

// Everything one transfer needs inside libcurl's C callbacks. Exceptions never cross the C
// boundary: a callback stores them and aborts, and perform() rethrows.
struct HttpClient::State {
    std::unique_ptr<CURL, CurlCleanup> handle;
    std::vector<ExchangeObserver> observers;
    std::string user_agent = default_user_agent;
    TlsOptions tls;
    std::shared_ptr<Authorizer> authorizer;
    std::chrono::seconds stall_timeout{30};

    // Per-transfer state.
    const Request* request = nullptr;
    const BodySink* sink = nullptr;
    Response response;
    Exchange exchange;
    std::optional<Sha256> body_hash;
    std::size_t body_offset = 0;  // for in-memory request bodies
    std::exception_ptr error;

    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) {
        auto& state = *static_cast<State*>(self);
        const std::string_view line = trim(std::string_view(data, size * count));
        if (line.starts_with("HTTP/")) {
            // A new status line (after a redirect or "100 Continue") starts a fresh header set.
            state.response.headers = Headers();
            const auto space = line.find(' ');
            const auto reason = line.find(' ', space + 1);
            state.response.reason =
                reason == std::string_view::npos ? "" : std::string(line.substr(reason + 1));
        } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            state.response.headers.add(std::string(trim(line.substr(0, colon))),
                                       std::string(trim(line.substr(colon + 1))));
        }
        return size * count;
    }

    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self) {
        auto& state = *static_cast<State*>(self);
        const std::size_t length = size * count;
        try {
            long status = 0;
            curl_easy_getinfo(state.handle.get(), CURLINFO_RESPONSE_CODE, &status);
            // Created at the first byte: a HEAD or an empty body pays for no hash at all.
            if (!state.observers.empty()) {
                if (!state.body_hash) state.body_hash.emplace();
                state.body_hash->update(data, length);
            }
            state.exchange.bytes_received += length;
            if (state.sink && *state.sink && status < 400) {
                (*state.sink)(data, length);
            } else {
                if (state.response.body.size() + length > max_body_in_memory)
                    throw std::runtime_error("response body is larger than " +
                                             std::to_string(max_body_in_memory) + " bytes");
                state.response.body.append(data, length);
            }
            return length;
        } catch (...) {
            state.error = std::current_exception();
            return CURL_WRITEFUNC_ERROR;
        }
    }

    static std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* self) {
        auto& state = *static_cast<State*>(self);
        const std::size_t capacity = size * count;
        try {
            std::size_t written = 0;
            if (state.request->source) {
                written = state.request->source(buffer, capacity);
            } else {
                const auto& body = state.request->body;
                written = std::min(capacity, body.size() - state.body_offset);
                std::copy_n(body.data() + state.body_offset, written, buffer);
                state.body_offset += written;
            }
            state.exchange.bytes_sent += written;
            return written;
        } catch (...) {
            state.error = std::current_exception();
            return CURL_READFUNC_ABORT;
        }
    }

    static int on_seek(void* self, curl_off_t offset, int origin) {
        auto& state = *static_cast<State*>(self);
        if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
        try {
            if (state.request->source && !(state.request->rewind_source && state.request->rewind_source()))
                return CURL_SEEKFUNC_CANTSEEK;
        } catch (...) {
            state.error = std::current_exception();
            return CURL_SEEKFUNC_FAIL;
        }
        state.body_offset = 0;
        state.exchange.bytes_sent = 0;
        return CURL_SEEKFUNC_OK;
    }

    // Records the request headers exactly as libcurl sent them (Host, User-Agent included).
    static int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* self) {
        if (type != CURLINFO_HEADER_OUT) return 0;
        auto& state = *static_cast<State*>(self);
        state.exchange.request_headers = Headers();
        std::string_view block(data, size);
        block.remove_prefix(std::min(block.size(), block.find("\r\n") + 2));  // request line
        while (!block.empty()) {
            const auto end = block.find("\r\n");
            const auto line = block.substr(0, end);
            if (const auto colon = line.find(':'); colon != std::string_view::npos) {
                std::string name(trim(line.substr(0, colon)));
                std::string value(trim(line.substr(colon + 1)));
                // Credentials never leave the client: not in transcripts, logs or errors.
                if (equals_ignoring_case(name, "Authorization") || equals_ignoring_case(name, "Proxy-Authorization"))
                    value = "<redacted>";
                state.exchange.request_headers.add(std::move(name), std::move(value));
            }
            if (end == std::string_view::npos) break;
            block.remove_prefix(end + 2);
        }
        return 0;
    }
};

HttpClient::HttpClient() : state_(std::make_unique<State>()) {
    init_curl_once();
    state_->handle.reset(curl_easy_init());
    if (!state_->handle) throw std::runtime_error("libcurl could not create a handle");
}

HttpClient::HttpClient(const ClientOptions& options) : HttpClient() {
    set_user_agent(options.user_agent);
    for (const ExchangeObserver& observer : options.observers) add_observer(observer);
    set_tls_options(options.tls);
    set_authorizer(options.authorizer);
    set_stall_timeout(options.stall_timeout);
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::set_user_agent(std::string user_agent) {
    state_->user_agent = std::move(user_agent);
}

void HttpClient::set_stall_timeout(std::chrono::seconds timeout) {
    if (timeout.count() < 1) throw std::invalid_argument("the stall timeout must be at least 1 s");
    state_->stall_timeout = timeout;
}

void HttpClient::add_observer(ExchangeObserver observer) {
    state_->observers.push_back(std::move(observer));
}

HttpClient HttpClient::sibling() const {
    HttpClient copy;
    copy.state_->observers = state_->observers;
    copy.state_->user_agent = state_->user_agent;
    copy.state_->tls = state_->tls;
    copy.state_->authorizer = state_->authorizer;
    copy.state_->stall_timeout = state_->stall_timeout;
    return copy;
}

void HttpClient::set_tls_options(TlsOptions options) { state_->tls = std::move(options); }

void HttpClient::set_authorizer(std::shared_ptr<Authorizer> authorizer) {
    state_->authorizer = std::move(authorizer);
}

Response HttpClient::perform(const Request& request, const BodySink& sink) {
    const std::shared_ptr<Authorizer> authorizer = state_->authorizer;
    if (!authorizer) return perform_once(request, sink, std::nullopt);
    Response response = perform_once(request, sink, authorizer->authorization(request));
    if (response.status != 401 || !authorizer->unauthorized(request, response)) return response;
    // A streamed body that cannot start over cannot be sent twice: the 401 stands.
    if (request.source && !(request.rewind_source && request.rewind_source())) return response;
    return perform_once(request, sink, authorizer->authorization(request));
}

Response HttpClient::perform_once(const Request& request, const BodySink& sink,
                                  const std::optional<std::string>& authorization) {
    State& state = *state_;
    CURL* curl = state.handle.get();
    // Reset options from the previous request but keep the connection cache.
    curl_easy_reset(curl);
    state.request = &request;
    state.sink = &sink;
    state.response = Response();
    state.exchange = Exchange{.method = request.method, .url = request.url};
    // Only an observer looks at the body's digest; whoever streams a blob hashes it anyway.
    state.body_hash.reset();
    state.body_offset = 0;
    state.error = nullptr;

    std::unique_ptr<curl_slist, SlistFree> header_list;
    auto append_header = [&](const std::string& line) {
        curl_slist* grown = curl_slist_append(header_list.get(), line.c_str());
        if (!grown) throw std::runtime_error("out of memory building request headers");
        (void)header_list.release();
        header_list.reset(grown);
    };
    for (const auto& [name, value] : request.headers.fields()) append_header(name + ": " + value);
    if (authorization) append_header("Authorization: " + *authorization);
    // Large PUTs would otherwise wait for "100 Continue": one round trip saved per blob.
    append_header("Expect:");

    const bool has_body = request.source || !request.body.empty() || request.method == "PUT" ||
                          request.method == "PATCH" || request.method == "POST";
    const curl_off_t body_size = request.source
                                     ? static_cast<curl_off_t>(request.source_size)
                                     : static_cast<curl_off_t>(request.body.size());

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_USERAGENT, state.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &State::on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &State::on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
    // The request headers as sent are for observers only; without one, libcurl's verbose
    // mode (a formatted message at every step of every request) is work nobody reads.
    if (!state.observers.empty()) {
        curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, &State::on_debug);
        curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &state);
        curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // feeds on_debug; prints nothing itself
    }
    // Fail instead of hanging: a connect deadline, and abort when the transfer stalls.
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(state.stall_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, receive_buffer_size);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, send_buffer_size);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!state.tls.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, state.tls.ca_file.c_str());
    if (!state.tls.verify) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, body_size);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, &State::on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &state);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &State::on_seek);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, &state);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    // Registries may redirect blob downloads to other storage; credentials are not forwarded.
    if (request.method == "GET" || request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }

    const CURLcode result = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &state.response.status);
    state.exchange.status = state.response.status;
    state.exchange.reason = state.response.reason;
    state.exchange.response_headers = state.response.headers;
    if (state.body_hash) {
        state.exchange.body_digest = state.body_hash->finish().str();
    } else if (!state.observers.empty()) {
        static const std::string empty_body_digest = digest_of("").str();
        state.exchange.body_digest = empty_body_digest;
    }
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &state.exchange.new_connections);
    state.exchange.http_version = http_version_of(curl);
    for (const auto& observer : state.observers) observer(state.exchange);

    if (state.error) std::rethrow_exception(state.error);
    if (result != CURLE_OK)
        throw std::runtime_error(request.method + " " + request.url + ": " +
                                 describe_failure(curl, result, state.stall_timeout));
    return std::move(state.response);
}

}  // namespace wbclient
