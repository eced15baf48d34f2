// The book's reference pages, from every chapter's recording: each endpoint (method and path
// template) and each error code the book shows, with links to the exchanges that show them.
#pragma once

#include "recorded_conversation.hpp"

#include <map>
#include <string>

namespace book {

/// "/v2/<name>/blobs/uploads/<uuid>?digest=<digest>": the API's form of a recorded request.
std::string endpoint_template(const harness::ObservedExchange& exchange);

/// Chapter number -> its conversation.
using RecordedChapters = std::map<std::string, Conversation>;

std::string endpoints_html(const RecordedChapters& chapters);
std::string error_codes_html(const RecordedChapters& chapters);

}  // namespace book
