// The library's typed errors, asserted by type and fields: the status gate's RegistryError
// (every error code), DigestMismatch (expected and actual digest), delete refusals.
#include "scripted_server.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"

#include <catch2/catch.hpp>

using wbclient::Request;
using wbclient::Response;

TEST_CASE("status gate: expected statuses pass, others keep every registry error", "[library][errors]") {
    const Request request{.method = "PUT", .url = "http://127.0.0.1:5000/v2/r/manifests/latest"};
    Response answer{.status = 400, .reason = "Bad Request"};
    answer.body = R"({"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"},)"
                  R"({"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"},{"detail":1}]})";
    CHECK(wbclient::check_status(request, answer, {400, 201}).status == 400);
    try {
        wbclient::check_status(request, answer, {201});
        FAIL("a 400 passed a gate that expects 201");
    } catch (const wbclient::RegistryError& error) {
        CHECK(error.status() == 400);
        CHECK(error.code() == "MANIFEST_INVALID");
        REQUIRE(error.errors().size() == 3);
        CHECK(error.errors()[1].code == "MANIFEST_BLOB_UNKNOWN");
        CHECK(error.errors()[1].message == "blob unknown to registry");
        CHECK(error.has_code("MANIFEST_BLOB_UNKNOWN"));
        CHECK_FALSE(error.has_code("BLOB_UNKNOWN"));
    }
    // A body that is not the registry's JSON: no codes, and no crash.
    const Response plain{.status = 404, .reason = "Not Found", .body = "404 page not found\n"};
    try {
        wbclient::check_status(request, plain, {200});
        FAIL("a 404 passed a gate that expects 200");
    } catch (const wbclient::RegistryError& error) {
        CHECK(error.status() == 404);
        CHECK(error.errors().empty());
        CHECK(error.code().empty());
    }
}

TEST_CASE("digest mismatch: a blob whose bytes are not its digest is a DigestMismatch", "[library][errors]") {
    const std::string promised = "the bytes the manifest names";
    const std::string served = "other bytes, same length!!!!";
    harness::ScriptedServer registry([&](const std::string&, const std::string&) {
        return harness::ScriptedResponse{.headers = {{"Content-Type", "application/octet-stream"}}, .body = served};
    });
    wbclient::RegistryClient client(registry.host_port());
    const wbclient::Descriptor blob{.media_type = "application/octet-stream",
                                    .digest = wbclient::digest_of(promised),
                                    .size = served.size()};
    try {
        client.fetch_blob("r", blob, [](const char*, std::size_t) {});
        FAIL("a blob with other bytes was accepted");
    } catch (const wbclient::DigestMismatch& mismatch) {
        CHECK(mismatch.expected() == blob.digest);
        CHECK(mismatch.actual() == wbclient::digest_of(served));
    }
    CHECK(registry.requests() == std::vector<std::string>{"GET /v2/r/blobs/" + blob.digest.str()});
}

TEST_CASE("delete refusals are RegistryErrors with every code and an explanation", "[library][errors]") {
    harness::ScriptedServer registry([](const std::string&, const std::string&) {
        return harness::ScriptedResponse{
            .status = 405,
            .headers = {{"Content-Type", "application/json"}},
            .body = R"({"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]})"};
    });
    wbclient::RegistryClient client(registry.host_port());
    const auto digest = wbclient::digest_of("x");
    try {
        wbclient::delete_blob(client, "r", digest);
        FAIL("the DELETE was accepted");
    } catch (const wbclient::RegistryError& refusal) {
        CHECK(refusal.status() == 405);
        CHECK(refusal.has_code("UNSUPPORTED"));
    }
    CHECK(registry.requests() == std::vector<std::string>{"DELETE /v2/r/blobs/" + digest.str()});
}
