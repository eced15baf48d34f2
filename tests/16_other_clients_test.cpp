// Chapter 16: given a registry, an upstream holding the workbook's busybox and the images of
// chapters 03 and 09 pushed by our library, when the program drives skopeo, buildah and podman
// (each into a repository of its own) and our library, then the registry's log shows each
// client's conversation as the page's table describes it (compare_clients), what each client
// pushed is what our library pulls and verifies, and the clients pull what our library pushed.
// Debian's docker CLI (20.10) runs `docker manifest inspect` without a daemon: it refuses
// buildah's OCI manifest and prints skopeo's schema2 one. docker's pull, run and push need a
// daemon: they are in compose_docker_cli_test.cpp (compose run only). A docker 28 CLI, not a
// Debian package, is compared in a hidden case, [.][docker28]: ./16_other_clients_test '[docker28]'.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "client_comparison.hpp"
#include "registry_instance.hpp"
#include "rootfs_comparison.hpp"
#include "test_support.hpp"

#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

using namespace harness;
namespace fs = std::filesystem;

namespace {

const std::string program = "16_other_clients";

const ClientConversation* row_of(const std::vector<ClientConversation>& rows, const std::string& name) {
    for (const auto& row : rows)
        if (row.name == name) return &row;
    return nullptr;
}

// The value after `label` on the program's line that starts with it, e.g. "buildah pushed ".
std::string after(const std::string& output, const std::string& label) {
    const auto at = output.find(label);
    if (at == std::string::npos) return {};
    const auto start = at + label.size();
    return output.substr(start, output.find_first_of(" \n", start) - start);
}

// This sandbox may lack CAP_SYS_RESOURCE: then runc cannot set the rlimits podman asks for.
bool may_raise_rlimits() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("CapEff:")) return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1;
    return false;
}

}  // namespace

TEST_CASE("chapter 16: skopeo, buildah, podman and our library on one registry, told apart by its log", "[chapter16]") {
    Workspace workspace("chapter16");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const std::map<std::string, std::string> environment = {{"WORKBOOK_REGISTRY", registry->host_port()},
                                                            {"WORKBOOK_UPSTREAM", upstream->host_port()}};
    // Chapters 03 and 09 push with our library first: the clients pull those too.
    for (const std::string chapter : {"03_build_push_pull_run", "09_multi_platform_images"}) {
        const ChapterRun before = run_chapter(chapter, {}, workspace, environment);
        INFO(chapter << ": " << before.result.out << before.result.err);
        REQUIRE(before.result.exit_code == 0);
    }
    const std::size_t skip = registry->access_log().size();

    const ChapterRun run = run_chapter(program, {}, workspace, environment, std::chrono::seconds(240));
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    const auto all = registry->access_log();
    const std::vector<ObservedExchange> log(all.begin() + static_cast<std::ptrdiff_t>(skip), all.end());
    const auto rows = compare_clients(log, {harness_user_agent});
    INFO(summarize(log));
    // One run, many facts: plain blocks, not SECTIONs (Catch2 would run the clients again for each).

    const ClientConversation* skopeo = row_of(rows, "skopeo");
    const ClientConversation* buildah = row_of(rows, "buildah");
    const ClientConversation* podman = row_of(rows, "podman");
    const ClientConversation* ours = row_of(rows, "our library");
    const ClientConversation* docker = row_of(rows, "docker CLI");
    // Nobody else: the user agents are the ones the table names.
    CHECK(rows.size() == 5);
    REQUIRE(docker);
    REQUIRE(skopeo);
    REQUIRE(buildah);
    REQUIRE(podman);
    REQUIRE(ours);

    {  // each client pushed only into its own repositories, so the log splits by repository too
        CHECK(skopeo->pushed_to == std::set<std::string>{"skopeo/busybox", "skopeo-sync/busybox"});
        CHECK(buildah->pushed_to == std::set<std::string>{"buildah/hello"});
        CHECK(podman->pushed_to == std::set<std::string>{"podman/hello"});
        CHECK(ours->pushed_to == std::set<std::string>{"workbook/busybox"});
        // And the clients read what our library pushed, chapters 03 and 09 included.
        CHECK(podman->repositories.contains("workbook/busybox"));
        CHECK(podman->repositories.contains("hello-workbook"));
        CHECK(podman->repositories.contains("multi-platform-hello"));
        CHECK(skopeo->repositories.contains("hello-workbook"));
    }
    {  // buildah pushes OCI; skopeo keeps the source's format unless told; skopeo deletes by digest
        CHECK(buildah->manifest_types == std::set<std::string>{"application/vnd.oci.image.manifest.v1+json"});
        CHECK(skopeo->manifest_types == std::set<std::string>{"application/vnd.docker.distribution.manifest.v2+json",
                                                              "application/vnd.oci.image.manifest.v1+json"});
        CHECK(skopeo->deletes == 1);
        CHECK(skopeo->tag_lists >= 2);
        const auto deleted = std::find_if(log.begin(), log.end(), [](const ObservedExchange& e) { return e.method == "DELETE"; });
        REQUIRE(deleted != log.end());
        CHECK(std::regex_match(deleted->path(), std::regex("/v2/skopeo/busybox/manifests/sha256:[0-9a-f]{64}")));
        CHECK(deleted->status == 202);
    }
    {  // uploads: the containers/image clients send each new blob in one PATCH, then PUT; we PUT at once
        CHECK(buildah->one_patch_uploads >= 2);
        CHECK(buildah->chunked_uploads == 0);
        CHECK(buildah->monolithic_uploads == 0);
        CHECK(buildah->largest_patch > 0);
        CHECK(skopeo->one_patch_uploads >= 2);
        CHECK(skopeo->chunked_uploads == 0);
        CHECK(ours->one_patch_uploads + ours->monolithic_uploads >= 2);
        CHECK(ours->chunked_uploads == 0);
        // They ask before they send: a HEAD for each blob of the image they push.
        CHECK(buildah->heads_before_upload >= 2);
        CHECK(skopeo->heads_before_upload >= 2);
        // containers/image remembers where it saw each blob (its blob-info cache): buildah
        // mounts busybox's layer from where skopeo put it, podman buildah's two layers.
        CHECK(buildah->mounts >= 1);
        CHECK(podman->mounts >= 2);
        CHECK(ours->mounts == 0);
        // Every request of theirs on a connection of its own; ours share one.
        CHECK(buildah->connections == buildah->requests);
        CHECK(ours->connections == 1);
        // Nobody had to resume here.
        CHECK(buildah->upload_status_checks + skopeo->upload_status_checks + ours->upload_status_checks == 0);
    }
    {  // what the clients pushed, our library pulled with the digests they reported
        const std::string buildah_digest = after(run.result.out, "buildah pushed ");
        REQUIRE(buildah_digest.starts_with("sha256:"));
        wbclient::RegistryClient reader(registry->host_port());
        const auto manifest = reader.get_manifest("buildah/hello", "latest");
        CHECK(wbclient::digest_of(manifest.bytes).str() == buildah_digest);
        CHECK(manifest.parsed.layers.size() == 2);  // busybox's layer and buildah's RUN
        const fs::path layout = workspace.path() / "buildah-hello.oci";
        CHECK(wbclient::pull_to_layout(reader, wbclient::Reference::parse(registry->host_port() + "/buildah/hello:latest"), layout).str() ==
              buildah_digest);
        CHECK(wbclient::verify_oci_layout(layout) == 4);  // manifest, config, two layers
        CHECK(ours->repositories.contains("buildah/hello"));
        CHECK(ours->repositories.contains("skopeo/busybox"));
        CHECK_THAT(run.result.out, Catch::Contains("the digest the client reported"));
        CHECK_THAT(run.result.out, !Catch::Contains("NOT the digest"));
        // umoci unpacked our library's layout of it: buildah's RUN layer is in the rootfs.
        CHECK_THAT(run.result.out, Catch::Contains("rootfs/hello.txt: built by buildah\n"));
        // And our library unpacks that layout into the same rootfs as umoci, entry by entry.
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, "latest", workspace.path() / "buildah-unpacked");
        REQUIRE(tree.count("hello.txt"));
        CHECK_THAT(tree.at("hello.txt"), Catch::Contains(wbclient::digest_of("built by buildah\n").str()));
        CHECK(tree.count("bin/busybox"));
    }
    {  // the clients pulled what our library pushed
        const std::string pushed = after(run.result.out, "our library pushed " + registry->host_port() + "/workbook/busybox:latest ");
        REQUIRE(pushed.starts_with("sha256:"));
        CHECK(podman->repositories.contains("workbook/busybox"));
        CHECK(podman->blob_gets >= 2);
        CHECK_THAT(run.result.out, Catch::Contains("chapter 03's") && Catch::Contains("chapter 09's"));
        // What our library pushed unpacks to the rootfs umoci unpacks. It is busybox's Docker
        // schema2 manifest, which umoci 0.4.7 refuses ("not implemented"): skopeo copies it into
        // an OCI layout, converting the manifest and keeping the layers, as chapter 05's test does.
        const auto layout = test_support::copy_to_layout(registry->host_port() + "/workbook/busybox:latest",
                                                         workspace.path() / "workbook-busybox.layout", "latest");
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, "latest", workspace.path() / "ours-unpacked");
        CHECK(tree.count("bin/busybox"));
        REQUIRE(tree.count("bin/sh"));
        CHECK(tree.at("bin/sh") == "777 symlink -> busybox");
    }
    {  // podman run: runs the image where runc may set podman's rlimits, says why not elsewhere
        if (may_raise_rlimits())
            CHECK_THAT(run.result.out, Catch::Contains("built by buildah\n(exit 0)"));
        else
            CHECK_THAT(run.result.out, Catch::Contains("error setting rlimit") && Catch::Contains("operation not permitted"));
    }
    {  // Debian's docker CLI (20.10): no such manifest for the OCI one, the schema2 one printed
        CHECK(docker->client.starts_with("Docker-Client/20.10"));
        CHECK(docker->pushed_to.empty());
        CHECK_THAT(run.result.out, Catch::Contains("Docker version 20.10"));
        CHECK_THAT(run.result.out, Catch::Contains("(exit 1) no such manifest: " + registry->host_port() + "/buildah/hello:latest\n"));
        CHECK_THAT(run.result.out, Catch::Contains("(exit 0) { ... a manifest of type application/vnd.docker.distribution.manifest.v2+json\n"));
        CHECK_THAT(run.result.out, Catch::Contains("(no second docker CLI: --docker-cli-2 was not given)"));
        // The registry's side: its GETs of buildah's manifest by tag were answered 404, of skopeo's 200.
        std::set<long> buildah_answers, skopeo_answers;
        for (const ObservedExchange& exchange : log) {
            if (!exchange.user_agent.starts_with("Docker-Client/20.10") || exchange.method != "GET") continue;
            if (exchange.path() == "/v2/buildah/hello/manifests/latest") {
                buildah_answers.insert(exchange.status);
                CHECK(exchange.error_code == "manifest unknown");  // "OCI manifest found, but accept header does not support OCI manifests"
            }
            if (exchange.path() == "/v2/skopeo/busybox/manifests/latest") skopeo_answers.insert(exchange.status);
        }
        CHECK(buildah_answers == std::set<long>{404});
        CHECK(skopeo_answers == std::set<long>{200});
    }
    // The clients' storage is gone.
    CHECK_FALSE(fs::exists(workspace.path() / "other-clients-storage"));
}

// docker 28's CLI is not a Debian package: hidden from the default run ([.]); run it with
// ./16_other_clients_test '[docker28]' where /usr/local/bin/docker is a docker 28 CLI. There it
// fails, not skips, when that CLI is missing.
TEST_CASE("chapter 16: docker 28's CLI prints the OCI manifest docker 20.10 refuses", "[.][docker28][chapter16]") {
    const fs::path docker28 = "/usr/local/bin/docker";
    REQUIRE(fs::exists(docker28));
    Workspace workspace("chapter16-docker28");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    auto registry = start_registry({.role = "registry"}, workspace.path());
    const ChapterRun run = run_chapter(program, {"--docker-cli-2", docker28.string()}, workspace,
                                       {{"WORKBOOK_REGISTRY", registry->host_port()}, {"WORKBOOK_UPSTREAM", upstream->host_port()}},
                                       std::chrono::seconds(240));
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    const std::string out = run.result.out;
    const auto second = out.find("Docker version 28.");
    REQUIRE(second != std::string::npos);
    const std::string answers = out.substr(second);
    // Both printed: buildah's OCI manifest first, then skopeo's schema2 one.
    const auto oci = answers.find("(exit 0) {");
    REQUIRE(oci != std::string::npos);
    CHECK(answers.find("no such manifest") == std::string::npos);
    CHECK_THAT(answers.substr(oci + 1), Catch::Contains("(exit 0) { ... a manifest of type application/vnd.docker.distribution.manifest.v2+json\n"));
    CHECK_THAT(out.substr(0, second), Catch::Contains("(exit 1) no such manifest:"));
    std::set<long> buildah_answers;
    for (const ObservedExchange& exchange : registry->access_log())
        if (exchange.user_agent.starts_with("Docker-Client/28.") && exchange.method == "GET" && exchange.path() == "/v2/buildah/hello/manifests/latest")
            buildah_answers.insert(exchange.status);
    CHECK(buildah_answers == std::set<long>{200});
}

TEST_CASE("chapter 16: bad input gets a one-line error and a non-zero exit", "[chapter16]") {
    Workspace workspace("chapter16-bad");
    const ChapterRun run = run_chapter(program, {"--no-such-option"}, workspace);
    CHECK(run.result.exit_code != 0);
    CHECK(is_one_line(run.result.err));
    const ChapterRun unreachable = run_chapter(program, {}, workspace, {{"WORKBOOK_REGISTRY", "127.0.0.1:9"}, {"WORKBOOK_UPSTREAM", "127.0.0.1:9"}});
    CHECK(unreachable.result.exit_code != 0);
    CHECK_THAT(unreachable.result.err, Catch::Contains("16_other_clients: skopeo copy failed"));
}
