// The two ways an exchange is shown: a JSON-lines transcript for tests and the book, and a
// `curl -v` style printout for a reader at a terminal.
#include "wbclient/http/http.hpp"
#include "wbclient/http/url.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>

namespace wbclient {
namespace {

nlohmann::json to_json(const Headers& headers) {
    auto fields = nlohmann::json::array();
    for (const auto& [name, value] : headers.fields()) fields.push_back({name, value});
    return fields;
}

std::string path_of(const std::string& url) { return Url(url).path_and_query(); }

// Clients on worker threads share the transcript and the terminal: one line at a time.
std::mutex& output_mutex() {
    static std::mutex mutex;
    return mutex;
}

// Appends one line per exchange. The file is opened for each line in append mode so that
// several clients, and several processes, can share one transcript; within a process a
// mutex keeps two threads' lines from interleaving, and each line goes out in one write.
void append_to_transcript(const std::string& file, const Exchange& exchange) {
    const nlohmann::json line = {
        {"method", exchange.method},
        {"url", exchange.url},
        {"request_headers", to_json(exchange.request_headers)},
        {"status", exchange.status},
        {"reason", exchange.reason},
        {"response_headers", to_json(exchange.response_headers)},
        {"bytes_sent", exchange.bytes_sent},
        {"bytes_received", exchange.bytes_received},
        {"new_connections", exchange.new_connections},
        {"http_version", exchange.http_version},
        {"body_digest", exchange.body_digest},
    };
    const std::string text = line.dump() + '\n';
    const std::lock_guard lock(output_mutex());
    std::ofstream out;
    out.rdbuf()->pubsetbuf(nullptr, 0);  // unbuffered: the whole line in one write()
    out.open(file, std::ios::app);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot append to transcript " + file);
}

// The protocol goes where curl -v puts it, as libcurl reports it ("HTTP/2" over TLS with
// ALPN); an exchange that got no answer spoke none, and its request line names none.
void print_like_curl(const Exchange& exchange) {
    std::string text = "> " + exchange.method + " " + path_of(exchange.url) +
                       (exchange.http_version.empty() ? "" : " " + exchange.http_version) + "\n";
    for (const auto& [name, value] : exchange.request_headers.fields())
        text += "> " + name + ": " + value + "\n";
    if (exchange.bytes_sent > 0)
        text += "> [" + std::to_string(exchange.bytes_sent) + " bytes of body]\n";
    if (exchange.status != 0) {
        text += "< " + exchange.http_version + " " + std::to_string(exchange.status) +
                (exchange.reason.empty() ? "" : " " + exchange.reason) + "\n";
        for (const auto& [name, value] : exchange.response_headers.fields())
            text += "< " + name + ": " + value + "\n";
        text += "< [" + std::to_string(exchange.bytes_received) + " bytes of body]\n";
    } else {
        text += "< (no response)\n";
    }
    const std::lock_guard lock(output_mutex());
    // Narration goes to stdout; flush it first so both streams interleave in order.
    std::cout.flush();
    std::cerr << text << std::endl;
}

}  // namespace

ExchangeObserver transcript_writer(std::string path) {
    return [path = std::move(path)](const Exchange& exchange) { append_to_transcript(path, exchange); };
}

ExchangeObserver verbose_printer() { return print_like_curl; }

}  // namespace wbclient
