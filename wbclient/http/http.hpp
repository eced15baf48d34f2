// HTTP over libcurl: one reusable handle per client, streamed bodies, every exchange observable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wbclient {

/// Header fields in the order they were sent or received; names compare case-insensitively.
class Headers {
public:
    void add(std::string name, std::string value);
    /// The first value of `name`, if present.
    std::optional<std::string> get(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

/// Receives a response body piece by piece. It may throw to abort the transfer.
using BodySink = std::function<void(const char* data, std::size_t size)>;
/// Fills `buffer` with up to `capacity` request-body bytes and returns how many; 0 ends the
/// body. It may throw to abort the transfer.
using BodySource = std::function<std::size_t(char* buffer, std::size_t capacity)>;

struct Request {
    std::string method = "GET";
    std::string url;
    Headers headers;
    /// A small body held in memory (JSON manifests); ignored when `source` is set.
    std::string body;
    /// A streamed body of exactly `source_size` bytes (blobs).
    BodySource source;
    std::uint64_t source_size = 0;
    /// Starts `source` over from its first byte; returns false if it cannot. libcurl asks
    /// when a kept-alive connection turns out closed and it must send the request again.
    std::function<bool()> rewind_source;
};

struct Response {
    long status = 0;
    std::string reason;  ///< "OK", "Accepted", ... as the server wrote it
    Headers headers;
    /// The body, unless a sink took it. Error bodies (status >= 400) always land here.
    std::string body;
};

/// What one request/response pair looked like on the wire. Credentials are already redacted.
struct Exchange {
    std::string method;
    std::string url;
    Headers request_headers;
    long status = 0;
    std::string reason;
    Headers response_headers;
    std::uint64_t bytes_sent = 0;      ///< request body bytes
    std::uint64_t bytes_received = 0;  ///< response body bytes
    /// sha256 of the response body as received; computed only for clients with observers
    /// (a transcript, the verbose printer), so a plain transfer never hashes twice.
    std::string body_digest;
    /// Connections this exchange had to open: 0 when it reused a kept-alive one.
    long new_connections = 0;
    /// The protocol the answer came in, as libcurl reports it (CURLINFO_HTTP_VERSION):
    /// "HTTP/1.1", or "HTTP/2" where TLS negotiated it; "" when no answer came.
    std::string http_version;
};

/// Called after every exchange, successful or not.
using ExchangeObserver = std::function<void(const Exchange&)>;

/// How https:// servers are checked. Verification is on unless switched off explicitly.
struct TlsOptions {
    /// A PEM file of CA certificates to trust instead of the system's, e.g. a private CA's.
    std::string ca_file;
    /// false skips checking the certificate and host name: for experiments only.
    bool verify = true;
};

/// Supplies each request's Authorization and decides whether a 401 deserves one more try
/// (wbclient/auth.hpp implements Basic and Bearer). HttpClient redacts what it returns.
/// One authorizer may serve several clients on several threads (HttpClient::sibling), so
/// implementations must be thread-safe.
class Authorizer {
public:
    virtual ~Authorizer() = default;
    /// The Authorization value to send with `request`, if any.
    virtual std::optional<std::string> authorization(const Request& request) = 0;
    /// `request` was answered 401; returns true if authorization(request) now has something
    /// new to offer, so the request is worth sending again (once).
    virtual bool unauthorized(const Request& request, const Response& response) = 0;
};

struct ClientOptions;

/// One libcurl easy handle, reused for every request so connections are kept alive.
/// Not thread-safe: give each thread its own client (see sibling()).
class HttpClient {
public:
    /// The defaults of ClientOptions: no observers, 30 s stall timeout, the system's CAs.
    HttpClient();
    /// Throws std::invalid_argument if options.stall_timeout is under 1 s.
    explicit HttpClient(const ClientOptions& options);
    ~HttpClient();
    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;

    /// Performs `request`. With a `sink`, a successful (< 400) body streams into it instead of
    /// Response::body. Throws std::runtime_error with a one-line message when the transfer
    /// fails (unreachable host, timeout, a sink or source that threw); HTTP error statuses
    /// are returned, not thrown.
    Response perform(const Request& request, const BodySink& sink = {});

    /// Registries log the user agent of every request; name your tool in it.
    void set_user_agent(std::string user_agent);
    static constexpr const char* default_user_agent = "registry-workbook/1.0";

    /// Observers see every exchange; the transcript and the verbose printer are two of them.
    void add_observer(ExchangeObserver observer);

    /// Certificate checks for https:// URLs (default: verify against the system's CAs).
    void set_tls_options(TlsOptions options);
    /// Authorization for every request from now on; a 401 is retried once when the
    /// authorizer has something new to offer and the body can be sent again.
    void set_authorizer(std::shared_ptr<Authorizer> authorizer);

    /// A transfer that moves no byte for this long fails instead of hanging (default 30 s).
    void set_stall_timeout(std::chrono::seconds timeout);

    /// A new client with its own handle, and so its own connection, configured like this one:
    /// the same user agent, observers, TLS options, authorizer and stall timeout. What a
    /// worker thread uses to talk to the same registry as its caller.
    HttpClient sibling() const;

    /// Bytes libcurl hands over per callback: the receive buffer (libcurl's default is 16 KiB)
    /// and the send buffer (default 64 KiB). Larger pieces mean fewer calls, system calls
    /// and wake-ups per blob; libcurl 7.88 caps them at 10 MiB and 2 MiB.
    static constexpr long receive_buffer_size = 512 * 1024;
    static constexpr long send_buffer_size = 1024 * 1024;

    /// Bodies kept in memory are capped so a hostile server cannot exhaust memory.
    static constexpr std::size_t max_body_in_memory = 4 * 1024 * 1024;

private:
    Response perform_once(const Request& request, const BodySink& sink,
                          const std::optional<std::string>& authorization);
    struct State;
    std::unique_ptr<State> state_;
};

/// How an HttpClient is set up, all in one value passed in: the library reads nothing from
/// the environment (a program decides where its settings come from).
struct ClientOptions {
    /// Called after every exchange: a transcript file (transcript_writer), `curl -v`-style
    /// lines on stderr (verbose_printer), or the caller's own.
    std::vector<ExchangeObserver> observers;
    /// A transfer that moves no byte for this long fails instead of hanging (at least 1 s).
    std::chrono::seconds stall_timeout{30};
    /// Certificate checks for https:// URLs.
    TlsOptions tls;
    /// Registries log the user agent of every request; name your tool in it.
    std::string user_agent = HttpClient::default_user_agent;
    /// Authorization for every request (Basic, Bearer: wbclient/http/auth.hpp), if any.
    std::shared_ptr<Authorizer> authorizer;
};

/// An observer that appends one JSON line per exchange to the file `path` (the transcript the
/// book and the tests read).
ExchangeObserver transcript_writer(std::string path);
/// An observer that prints each exchange to stderr the way `curl -v` does.
ExchangeObserver verbose_printer();

}  // namespace wbclient
