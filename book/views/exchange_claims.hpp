// A chapter's sentence can point at the recorded exchange that shows what it says, with
// \exchange{NN,K,METHOD path-template STATUS} (a Doxygen alias: a link to row K of chapter
// NN's summary table), optionally followed by "; header: Name" or "; header: Name: value"
// (the answer carries it) and "; logged: text" (a line the registry logged for it says it). The book's build checks every such pointer against the new
// recording, so prose cannot keep claiming what the registry stopped doing.
// Point only at exchanges whose number is the same in every run: where two parties are talked
// to at once (chapter 01's upstream GET beside its upload, chapter 10's copies) the numbers
// after the first overlap can swap from run to run.
#pragma once

#include "recorded_conversation.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace book {

struct ExchangeClaim {
    std::filesystem::path file;
    int line = 0;
    std::string chapter;  ///< "04"
    int number = 0;       ///< the exchange, 1-based
    std::string says;     ///< "GET /v2/_catalog?n=2 200"
};

/// Every \exchange{...} in `chapters_dir`/*.md.
std::vector<ExchangeClaim> find_claims(const std::filesystem::path& chapters_dir);

/// "" when every claim matches its chapter's recording (keyed by chapter number), else one
/// line per claim that does not, saying what the exchange is now.
std::string check_claims(const std::vector<ExchangeClaim>& claims,
                         const std::map<std::string, Conversation>& recorded);

}  // namespace book
