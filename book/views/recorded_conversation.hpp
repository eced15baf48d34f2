// One chapter's recorded run read back as a conversation: the client's exchanges in order,
// each with the program's narration that came before it and what the registry logged for it.
#pragma once

#include "observed_exchange.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace book {

/// What the scrub writes in for a run's real ports and paths (replacements.json).
using Replacements = std::vector<std::pair<std::string, std::string>>;

/// The registry's log lines for one request, matched to the client's exchange.
struct LoggedRequest {
    std::string duration;               ///< "http.response.duration", rounded: "1.20 ms"
    std::vector<std::string> messages;  ///< each line's "msg", with err.code where present
    std::vector<std::string> error_codes;  ///< err.code in capitals: "BLOB_UNKNOWN"
};

struct RecordedExchange {
    int number = 0;                        ///< 1-based, in the order the client finished them
    harness::ObservedExchange client;      ///< scrubbed
    std::string raw_url;                   ///< as sent, unscrubbed (matching Locations needs it)
    std::vector<std::pair<std::string, std::string>> raw_response_headers;
    std::string reason;                    ///< "OK", "Accepted", ... ("" over HTTP/2)
    std::string body_digest;               ///< of the response body, as received
    std::vector<std::string> narration;    ///< the program's lines printed just before it
    std::string shown;                     ///< the curl -v style block the program printed
    std::optional<LoggedRequest> logged;   ///< only for the registry whose log is recorded
    /// The registry's error codes for a refusal (status >= 400), "BLOB_UNKNOWN": from its log's
    /// err.code, or else from the program's narration right after the exchange, which prints
    /// the error body.
    std::vector<std::string> error_codes;
};

struct Conversation {
    std::string program;                   ///< e.g. "01_rehost_busybox"
    std::vector<RecordedExchange> exchanges;
    std::vector<std::string> closing_narration;  ///< printed after the last exchange
};

Replacements read_replacements(const std::filesystem::path& file);

/// Reads <program>.transcript.jsonl, <program>.out and <program>.registry.jsonl from `dir`.
Conversation read_conversation(const std::filesystem::path& dir, const std::string& program,
                               const Replacements& replacements);

/// The program's own lines, without the exchanges: what it said it did.
std::string narration_text(const Conversation& conversation);

/// The start of the id of each row of chapter NN's summary table, "chapter04-x", which the
/// number of the exchange completes: what diagrams, reference pages and \exchange{} link to
/// (book/CMakeLists.txt writes the same form into the \exchange alias).
inline std::string exchange_anchor_prefix(const std::string& chapter) { return "chapter" + chapter + "-x"; }

/// The lifeline an exchange belongs to, from its (scrubbed) host: "registry", "upstream", ...
std::string lifeline_of(const std::string& host);

}  // namespace book
