// A repository's tags (GET /v2/<name>/tags/list), the way `crane ls` asks for them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

class RegistryClient;

/// GET `/v2/<name>/tags/list`: the tags in the order the registry sent them (2.8.2 neither
/// sorts them nor pages them). A repository that holds blobs but no manifest yet is listed
/// by the catalog and answers 404 NAME_UNKNOWN here; one whose tags were all deleted answers
/// "tags": null. Both give an empty list.
std::vector<std::string> list_tags(RegistryClient& client, std::string_view repository);

}  // namespace wbclient
