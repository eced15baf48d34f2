// A recorded conversation as an mscgen sequence diagram (Doxygen's \mscfile draws it): one
// lifeline per party, one arrow per request labelled with method, shortened path and status,
// the program's narration as notes, repeated stretches drawn once.
#pragma once

#include "recorded_conversation.hpp"

#include <string>

namespace book {

/// `anchor_prefix` + exchange number is the id of that exchange's row in the summary table;
/// each arrow links there.
std::string sequence_diagram(const Conversation& conversation, const std::string& anchor_prefix);

/// The key two exchanges share when they are "the same request" drawn once for a repeat:
/// lifeline, method, path template (any manifest reference alike) and status.
std::string repeat_key(const RecordedExchange& exchange);

}  // namespace book
