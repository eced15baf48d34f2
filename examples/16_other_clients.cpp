// Chapter 16: other clients on the same registry. skopeo, buildah, podman and umoci (as processes)
// push and pull the workbook's images, each into a repository of its own, so the registry's
// log tells their conversations apart; our library pulls and verifies what they pushed, and
// they pull what our library pushed. Debian's docker CLI (and a second one, if given) asks the
// registry for buildah's OCI manifest and skopeo's schema2 one with `docker manifest inspect`.
//
// Usage: 16_other_clients [--docker-cli PATH] [--docker-cli-2 PATH] [storage-dir]
//   --docker-cli (default /usr/bin/docker, Debian's docker.io): the CLI that runs
//   `docker manifest inspect`; it talks to the registry itself, no daemon needed.
//   --docker-cli-2 (optional): a second docker CLI to compare with the first.
//   storage-dir (default other-clients-storage): where buildah and podman keep their images
//   (vfs driver), created if missing and removed at the end; their runroot is a short
//   folder under /tmp, removed too.
//   The registry is WORKBOOK_REGISTRY (else localhost:5000), busybox comes from
//   WORKBOOK_UPSTREAM (else localhost:5001). Needs skopeo, buildah, podman and umoci on PATH, run as
//   root (buildah and podman keep their storage with root's rights).
#include "program_options.hpp"
#include "wbclient/distribution/manifests.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <boost/process.hpp>
#include <nlohmann/json.hpp>

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace bp = boost::process;
namespace fs = std::filesystem;
using wbclient::Reference;

namespace {

struct Ran {
    int exit_code;
    std::string out;  // stdout and stderr, in order
};

// Words shown differently from what runs: the runroot mkdtemp made is shown as its template,
// so the narration is the same from run to run.
std::vector<std::pair<std::string, std::string>> shown_as;

// Runs a client as the reader would type it, shows the command, and returns what it printed.
Ran run(const std::vector<std::string>& argv) {
    std::cout << "$";
    for (std::string word : argv) {
        for (const auto& [actual, shown] : shown_as)
            if (word == actual) word = shown;
        std::cout << " " << (word.find_first_of(" {>") == std::string::npos ? word : "'" + word + "'");
    }
    std::cout << "\n" << std::flush;
    // A path runs that very file (two docker CLIs side by side); a bare name is searched in PATH.
    const boost::filesystem::path program =
        argv.front().find('/') != std::string::npos ? boost::filesystem::path(argv.front()) : bp::search_path(argv.front());
    if (program.empty()) throw std::runtime_error(argv.front() + " is not installed (apt-get install " + argv.front() + ")");
    if (!boost::filesystem::exists(program)) throw std::runtime_error(argv.front() + " does not exist");
    bp::ipstream output;
    bp::child child(program.string(), std::vector<std::string>(argv.begin() + 1, argv.end()),
                    (bp::std_out & bp::std_err) > output, bp::std_in < bp::null);
    std::string text;
    for (std::string line; std::getline(output, line);) text += line + "\n";
    child.wait();
    return {child.exit_code(), text};
}

// The same, for a step the chapter needs: a failure stops the program with the client's words.
std::string must(const std::vector<std::string>& argv) {
    const Ran ran = run(argv);
    if (ran.exit_code != 0) {
        std::istringstream lines(ran.out);
        std::string last, line;
        while (std::getline(lines, line))
            if (!line.empty()) last = line;
        throw std::runtime_error(argv.front() + " " + argv[1] + " failed (exit " + std::to_string(ran.exit_code) + "): " + last);
    }
    return ran.out;
}

// A client's one-word answer ("sha256:...") without its newline.
std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

struct RemovedAtExit {
    std::vector<fs::path> folders;
    ~RemovedAtExit() {
        std::error_code ignored;
        for (const fs::path& folder : folders) fs::remove_all(folder, ignored);
    }
};

// HEAD of the manifest: is the tag there? A 404 says no; any other failure stops the program.
bool has_tag(wbclient::RegistryClient& registry, const std::string& repository, const std::string& tag) {
    try {
        wbclient::head_manifest(registry, repository, tag);
        return true;
    } catch (const wbclient::RegistryError& error) {
        if (error.status() == 404) return false;
        throw;
    }
}

struct Options {
    // Debian's docker.io installs its CLI as /usr/bin/docker. A bare "docker" would be searched
    // in PATH, where /usr/local/bin comes first: on the book's machine that holds a docker 28
    // CLI of another origin, and the chapter shows what the Debian one (20.10) does.
    std::string docker_cli = "/usr/bin/docker";
    std::string docker_cli_2;  // empty: not given
    std::string storage = "other-clients-storage";
};

Options parse_options(int argc, char* argv[]) {
    Options options;
    bool storage_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--docker-cli" && i + 1 < argc) {
            options.docker_cli = argv[++i];
        } else if (arg == "--docker-cli-2" && i + 1 < argc) {
            options.docker_cli_2 = argv[++i];
        } else if (arg.starts_with("-") || storage_given) {
            throw std::invalid_argument("unexpected argument '" + arg + "'; usage: " + argv[0] +
                                        " [--docker-cli PATH] [--docker-cli-2 PATH] [storage-dir]");
        } else {
            options.storage = arg;
            storage_given = true;
        }
    }
    return options;
}

// What `docker manifest inspect` answered, in one line: its exit code, its first line, and
// the manifest's mediaType when it printed one.
void narrate_inspect(const Ran& ran) {
    const std::string first_line = ran.out.substr(0, ran.out.find('\n'));
    std::cout << "(exit " << ran.exit_code << ") " << first_line;
    const nlohmann::json printed = nlohmann::json::parse(ran.out, nullptr, false);
    if (!printed.is_discarded() && printed.is_object() && printed.contains("mediaType"))
        std::cout << " ... a manifest of type " << printed["mediaType"].get<std::string>();
    std::cout << "\n";
}

}  // namespace

int main(int argc, char* argv[]) try {
    const Options options = parse_options(argc, argv);
    //! [setup]
    const std::string registry = workbook::default_registry();
    const std::string busybox = workbook::default_upstream() + "/library/busybox:latest";
    const fs::path storage = fs::absolute(options.storage);
    // buildah and podman as root, with storage of their own (not /var/lib/containers), the vfs
    // driver (plain copies: no overlay mounts needed) and plain HTTP to our registries.
    // podman refuses a runroot longer than 50 characters (its sockets live there), so that
    // one is a short folder of its own under /tmp.
    std::string runroot_template = "/tmp/wb16-run-XXXXXX";
    if (!::mkdtemp(runroot_template.data())) throw std::runtime_error("cannot create a folder under /tmp");
    const fs::path runroot = runroot_template;
    shown_as.emplace_back(runroot.string(), "/tmp/wb16-run-XXXXXX");
    // Both go when the program ends, however it ends: they hold copies of every image.
    const RemovedAtExit cleanup{{storage, runroot}};
    const std::vector<std::string> containers_storage = {
        "--root", (storage / "root").string(), "--runroot", runroot.string(), "--storage-driver", "vfs"};
    // "buildah <command> <storage options> <arguments>": cobra takes global options there too.
    const auto with_storage = [&](const std::string& client, std::vector<std::string> args) {
        args.insert(args.begin() + 1, containers_storage.begin(), containers_storage.end());
        args.insert(args.begin(), client);
        return args;
    };
    const auto buildah = [&](std::vector<std::string> args) { return with_storage("buildah", std::move(args)); };
    // podman also keeps its events log and locks in a temporary folder, /run/libpod unless told.
    const auto podman = [&](std::vector<std::string> args) {
        args.insert(args.begin() + 1, {"--tmpdir", (runroot / "libpod").string()});
        return with_storage("podman", std::move(args));
    };
    wbclient::RegistryClient ours(registry, workbook::client_options());
    //! [setup]

    //! [skopeo]
    std::cout << "== skopeo: registry to registry, no local storage at all\n";
    const std::string skopeo_image = registry + "/skopeo/busybox";
    must({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
          "docker://" + busybox, "docker://" + skopeo_image + ":latest"});
    must({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
          "docker://" + skopeo_image + ":latest", "docker://" + skopeo_image + ":scratch"});
    std::cout << must({"skopeo", "list-tags", "--tls-verify=false", "docker://" + skopeo_image});
    const std::string skopeo_digest = trimmed(must({"skopeo", "inspect", "--tls-verify=false", "--format",
                                                    "{{.Digest}}", "docker://" + skopeo_image + ":latest"}));
    std::cout << skopeo_digest << "\n";
    // skopeo delete removes the manifest a tag names, by its digest (as the API wants), so
    // every tag of that manifest goes. A copy converted to OCI is a manifest of its own: that
    // one is deleted here, and :latest and :scratch stay.
    must({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "oci",
          "docker://" + skopeo_image + ":latest", "docker://" + skopeo_image + ":oci"});
    must({"skopeo", "delete", "--tls-verify=false", "docker://" + skopeo_image + ":oci"});
    std::cout << must({"skopeo", "list-tags", "--tls-verify=false", "docker://" + skopeo_image});
    must({"skopeo", "sync", "--src", "docker", "--dest", "docker", "--src-tls-verify=false", "--dest-tls-verify=false",
          skopeo_image + ":latest", registry + "/skopeo-sync"});
    //! [skopeo]

    //! [buildah]
    std::cout << "\n== buildah: FROM the workbook's busybox, one RUN layer, pushed in its default format (OCI)\n";
    const std::string buildah_image = registry + "/buildah/hello:latest";
    const std::string container = "chapter16-working-container";
    must(buildah({"from", "--name", container, "--tls-verify=false", "--pull-always", "docker://" + busybox}));
    must(buildah({"run", "--isolation", "chroot", container, "--", "sh", "-c", "echo built by buildah > /hello.txt"}));
    must(buildah({"config", "--cmd", "cat /hello.txt", container}));
    must(buildah({"commit", container, buildah_image}));
    const fs::path digest_file = storage / "buildah.digest";
    must(buildah({"push", "--tls-verify=false", "--digestfile", digest_file.string(), buildah_image}));
    must(buildah({"rm", container}));
    std::ifstream digest_in(digest_file);
    std::string buildah_digest;
    std::getline(digest_in, buildah_digest);
    std::cout << "buildah pushed " << buildah_digest << "\n";
    //! [buildah]

    //! [podman]
    std::cout << "\n== podman: pull what buildah pushed, push it to its own repository, run it\n";
    must(podman({"pull", "--tls-verify=false", buildah_image}));
    must(podman({"push", "--tls-verify=false", buildah_image, registry + "/podman/hello:latest"}));
    const Ran podman_run = run(podman({"run", "--rm", "--network", "none", buildah_image}));
    std::cout << podman_run.out << "(exit " << podman_run.exit_code << ")\n";
    //! [podman]

    //! [docker]
    std::cout << "\n== docker manifest inspect: the CLI asks the registry itself (no daemon), for buildah's OCI\n"
                 "   manifest and skopeo's Docker schema2 one\n";
    std::vector<std::string> docker_clis = {options.docker_cli};
    if (!options.docker_cli_2.empty()) docker_clis.push_back(options.docker_cli_2);
    for (const std::string& docker : docker_clis) {
        std::cout << trimmed(must({docker, "--version"})) << "\n";
        // Its answers are what the chapter shows: a refusal is narrated, not a failure.
        for (const std::string& image : {buildah_image, skopeo_image + ":latest"})
            narrate_inspect(run({docker, "manifest", "inspect", "--insecure", image}));
    }
    if (options.docker_cli_2.empty()) std::cout << "(no second docker CLI: --docker-cli-2 was not given)\n";
    //! [docker]

    //! [verify]
    std::cout << "\n== our library pulls what they pushed and checks every digest\n";
    for (const auto& [image, client_digest] : std::vector<std::pair<std::string, std::string>>{
             {skopeo_image + ":latest", skopeo_digest}, {buildah_image, buildah_digest}}) {
        const Reference reference = Reference::parse(image);
        const fs::path layout = storage / (reference.repository.substr(0, reference.repository.find('/')) + ".oci");
        fs::remove_all(layout);
        const wbclient::Digest pulled = wbclient::pull_to_layout(ours, reference, layout);
        const std::size_t verified = wbclient::verify_oci_layout(layout);
        std::cout << image << ": " << pulled.str() << ", " << verified << " blobs verified, "
                  << (pulled.str() == client_digest ? "the digest the client reported" : "NOT the digest the client reported") << "\n";
        if (pulled.str() != client_digest) throw std::runtime_error(image + ": pulled " + pulled.str() + ", the client said " + client_digest);
    }
    //! [verify]

    //! [umoci]
    std::cout << "\n== umoci unpacks the layout our library pulled of buildah's image, as a runtime would\n";
    const fs::path bundle = storage / "buildah-bundle";
    must({"umoci", "unpack", "--image", (storage / "buildah.oci").string() + ":latest", bundle.string()});
    std::ifstream hello(bundle / "rootfs/hello.txt");
    std::string hello_line;
    if (!std::getline(hello, hello_line)) throw std::runtime_error("umoci's rootfs has no /hello.txt");
    std::cout << "rootfs/hello.txt: " << hello_line << "\n";
    //! [umoci]

    //! [ours]
    std::cout << "\n== the other way: our library pushes, the clients pull\n";
    wbclient::RegistryClient upstream(workbook::default_upstream(), workbook::client_options());
    const Reference our_image = Reference::parse(registry + "/workbook/busybox:latest");
    const wbclient::Digest pushed = wbclient::copy_image(upstream, Reference::parse(busybox), ours, our_image);
    std::cout << "our library pushed " << our_image.str() << " " << pushed.str() << "\n";
    const std::string seen_by_skopeo = trimmed(must({"skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                                                     "docker://" + our_image.str()}));
    std::cout << seen_by_skopeo << "\n";
    // skopeo pulls every blob into an OCI layout of its own; podman into its storage.
    must({"skopeo", "copy", "--src-tls-verify=false", "docker://" + our_image.str(), "oci:" + (storage / "skopeo.oci").string() + ":latest"});
    must(podman({"pull", "--tls-verify=false", our_image.str()}));
    std::cout << trimmed(must(podman({"image", "inspect", "--format", "{{.Digest}}", our_image.str()}))) << "\n";
    if (seen_by_skopeo != pushed.str()) throw std::runtime_error("skopeo sees " + seen_by_skopeo + ", we pushed " + pushed.str());
    // The images the earlier chapters pushed with our library, where they are still there.
    for (const auto& [chapter, repository] : std::vector<std::pair<std::string, std::string>>{
             {"03", "hello-workbook"}, {"05", "my-app"}, {"09", "multi-platform-hello"}}) {
        const std::string image = registry + "/" + repository + ":latest";
        if (!has_tag(ours, repository, "latest")) {
            std::cout << image << ": not there (chapter " << chapter << " pushes it)\n";
            continue;
        }
        const std::string digest =
            trimmed(must({"skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + image}));
        std::cout << "chapter " << chapter << "'s " << repository << ": skopeo sees " << digest << "\n";
        must(podman({"pull", "--tls-verify=false", image}));
    }
    //! [ours]

    std::cout << "\nEvery client pushed and pulled; the registry's log has each one's conversation.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "16_other_clients: " << error.what() << "\n";
    return EXIT_FAILURE;
}
