// The one same-host rule for upload Locations, on every upload path: monolithic, chunked,
// resumed and a mount that falls back to an upload. Each case is a scripted registry that
// answers with a Location on another server (a second scripted server, another origin); the
// library must throw LocationRefused and that other server must receive nothing.
#include "scripted_server.hpp"
#include "workspace.hpp"

#include "wbclient/transfer/ensure_blob.hpp"
#include "wbclient/transfer/chunked_upload.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/upload_location.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using harness::ScriptedResponse;
using harness::ScriptedServer;
using harness::Workspace;
using wbclient::LocationRefused;

namespace {

const std::string uploads = "/v2/r/blobs/uploads/";

// A registry whose every upload answer sends the client to `elsewhere`, except what
// `same_host` says must stay on this server (so a session can begin before it turns hostile).
ScriptedServer registry_sending_to(const std::string& elsewhere, const std::string& same_host_method = "") {
    return ScriptedServer([=](const std::string& method, const std::string& target) {
        if (method == "HEAD") return ScriptedResponse{.status = 404};
        const std::string location = method == same_host_method ? uploads + "here" : "http://" + elsewhere + uploads + "1";
        if (method == "POST" && target.find("mount=") != std::string::npos)
            return ScriptedResponse{.status = 202, .headers = {{"Location", location}}};
        if (method == "POST" || method == "PATCH")
            return ScriptedResponse{.status = 202, .headers = {{"Location", location}, {"Range", "0-0"}}};
        if (method == "GET") return ScriptedResponse{.status = 204, .headers = {{"Location", location}, {"Range", "0-0"}}};
        return ScriptedResponse{.status = 201};
    });
}

}  // namespace

TEST_CASE("upload Location rule: same origin or a path, nothing else", "[library][upload_location]") {
    using wbclient::resolve_upload_location;
    const std::string base = "http://127.0.0.1:5000";
    CHECK(resolve_upload_location(base, "/v2/r/blobs/uploads/1?_state=x") == base + "/v2/r/blobs/uploads/1?_state=x");
    CHECK(resolve_upload_location(base, "HTTP://127.0.0.1:5000/v2/u") == "HTTP://127.0.0.1:5000/v2/u");
    CHECK(resolve_upload_location(base, "//127.0.0.1:5000/v2/u") == base + "/v2/u");
    for (const std::string refused : {"http://127.0.0.2:5000/v2/u", "https://127.0.0.1:5000/v2/u",
                                      "http://127.0.0.1:5001/v2/u", "//127.0.0.2:5000/v2/u",
                                      "http://127.0.0.1:5000@127.0.0.2/v2/u", "upload-1", "?_state=x", ""}) {
        INFO(refused);
        CHECK_THROWS_AS(resolve_upload_location(base, refused), LocationRefused);
    }
}

TEST_CASE("upload Location on another host: monolithic push", "[library][upload_location]") {
    ScriptedServer elsewhere([](const std::string&, const std::string&) { return ScriptedResponse{.status = 404}; });
    ScriptedServer registry = registry_sending_to(elsewhere.host_port());
    wbclient::RegistryClient client(registry.host_port());
    CHECK_THROWS_AS(client.push_blob("r", std::string("blob bytes")), LocationRefused);
    CHECK(registry.requests() == std::vector<std::string>{"POST " + uploads});
    CHECK(elsewhere.requests().empty());
}

TEST_CASE("upload Location on another host: chunked upload", "[library][upload_location]") {
    ScriptedServer elsewhere([](const std::string&, const std::string&) { return ScriptedResponse{.status = 404}; });
    SECTION("in the answer to POST") {
        ScriptedServer registry = registry_sending_to(elsewhere.host_port());
        wbclient::RegistryClient client(registry.host_port());
        CHECK_THROWS_AS(wbclient::BlobUpload::open(client, "r"), LocationRefused);
        CHECK(registry.requests() == std::vector<std::string>{"POST " + uploads});
    }
    SECTION("in the answer to a PATCH, after the session began on this server") {
        ScriptedServer registry = registry_sending_to(elsewhere.host_port(), "POST");
        wbclient::RegistryClient client(registry.host_port());
        wbclient::BlobUpload upload = wbclient::BlobUpload::open(client, "r");
        CHECK_THROWS_AS(upload.send_chunk("a"), LocationRefused);
        // The session still points at this server; the next request goes nowhere else.
        CHECK(upload.location() == "http://" + registry.host_port() + uploads + "here");
        CHECK(registry.requests() == std::vector<std::string>{"POST " + uploads, "PATCH " + uploads + "here"});
    }
    CHECK(elsewhere.requests().empty());
}

TEST_CASE("upload Location on another host: resumed upload", "[library][upload_location]") {
    ScriptedServer elsewhere([](const std::string&, const std::string&) { return ScriptedResponse{.status = 404}; });
    SECTION("a saved Location on another host is refused before any request") {
        ScriptedServer registry = registry_sending_to(elsewhere.host_port());
        wbclient::RegistryClient client(registry.host_port());
        CHECK_THROWS_AS(
            wbclient::BlobUpload::resume(client, "r", "http://" + elsewhere.host_port() + uploads + "1", 0),
            LocationRefused);
        CHECK(registry.requests().empty());
    }
    SECTION("the status answer sends the session to another host") {
        ScriptedServer registry = registry_sending_to(elsewhere.host_port());
        wbclient::RegistryClient client(registry.host_port());
        CHECK_THROWS_AS(wbclient::BlobUpload::resume(client, "r", uploads + "saved", 0), LocationRefused);
        CHECK(registry.requests() == std::vector<std::string>{"GET " + uploads + "saved"});
    }
    CHECK(elsewhere.requests().empty());
}

TEST_CASE("upload Location on another host: a mount that falls back to an upload", "[library][upload_location]") {
    ScriptedServer elsewhere([](const std::string&, const std::string&) { return ScriptedResponse{.status = 404}; });
    ScriptedServer registry = registry_sending_to(elsewhere.host_port());
    wbclient::RegistryClient client(registry.host_port());
    Workspace workspace("library-upload-location");
    const std::string bytes = "layer bytes";
    const auto file = workspace.path() / "layer";
    std::ofstream(file, std::ios::binary) << bytes;
    const wbclient::Descriptor blob{.media_type = "application/octet-stream",
                                    .digest = wbclient::digest_of(bytes),
                                    .size = bytes.size()};
    SECTION("request_mount") {
        CHECK_THROWS_AS(wbclient::request_mount(client, "r", blob.digest, "base"), LocationRefused);
        CHECK(registry.requests().size() == 1);
    }
    SECTION("ensure_blob: HEAD, mount, and no upload anywhere") {
        CHECK_THROWS_AS(wbclient::ensure_blob(client, "r", blob, file, "base"), LocationRefused);
        const auto seen = registry.requests();
        REQUIRE(seen.size() == 2);
        CHECK(seen[0].starts_with("HEAD /v2/r/blobs/"));
        CHECK(seen[1].starts_with("POST " + uploads + "?mount="));
    }
    CHECK(elsewhere.requests().empty());
}
