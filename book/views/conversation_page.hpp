// The HTML a chapter page includes (\htmlinclude) under its diagram: the summary table, the
// curl replay, and the whole run folded away.
#pragma once

#include "curl_replay.hpp"
#include "recorded_conversation.hpp"

#include <string>

namespace book {

/// `printed_run` is the program's output as recorded (<program>.out); `anchor_prefix` +
/// exchange number is each table row's id, what the diagram's arrows and the reference
/// pages link to.
std::string conversation_html(const Conversation& conversation, const std::vector<ReplayCommand>& replay,
                              const std::string& printed_run, const std::string& anchor_prefix);

}  // namespace book
