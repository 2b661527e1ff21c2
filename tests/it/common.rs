//! Test harness: the real prodbox binary, the real Docker engine, a real
//! registry (Debian's docker-registry) on 127.0.0.1, and fixture images built
//! locally FROM scratch. Everything a test makes carries its own label and
//! is removed on drop, also when the test fails.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The `[run]` section most tests use: the demo app on 8080, healthy when /healthz answers.
pub const HTTP_HEALTH: &str = "[run]\nports = [8080]\nhealth = { http = \"/healthz\" }\n";

/// The label every test resource carries (value: the test's id).
pub const TEST_LABEL: &str = "dev.prodbox.test";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name unique to this process and call.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// Runs a command, panicking with its output when it fails.
pub fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn docker(args: &[&str]) -> String {
    sh(Command::new("docker").args(args))
}

/// Whether the engine under test (`DOCKER_HOST`) is Podman: a few
/// assertions read its answers differently (it reports dropped capabilities
/// one by one, and its sandbox networks are libpod ones).
pub fn podman() -> bool {
    static PODMAN: OnceLock<bool> = OnceLock::new();
    *PODMAN.get_or_init(|| {
        docker_quiet(&["version", "--format", "{{range .Server.Components}}{{.Name}} {{end}}"]).contains("Podman")
    })
}

/// Whether a container's HostConfig drops every capability (Docker says
/// `["ALL"]`, Podman lists each one it dropped).
pub fn drops_all_capabilities(host: &serde_json::Value) -> bool {
    let dropped: Vec<&str> = host["CapDrop"].as_array().into_iter().flatten().filter_map(|c| c.as_str()).collect();
    dropped == ["ALL"]
        || (podman() && ["CHOWN", "DAC_OVERRIDE", "NET_RAW", "SETUID", "SETGID"].iter().all(|c| dropped.contains(c)))
}

/// The networks a container is attached to, by name (Podman's NetworkMode
/// says "bridge" for any network).
pub fn networks_of(container: &serde_json::Value) -> Vec<String> {
    container["NetworkSettings"]["Networks"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Removes an image prodbox pulled as `repo@digest`. Not on Podman: there a
/// removal by digest removes the image with all its names, the fixture tags
/// other tests use among them (and what Podman pulled is the fixture image
/// with one more name, nothing more to clean).
pub fn remove_pulled(pinned: &str) {
    if !podman() {
        let _ = Command::new("docker").args(["rmi", "-f", pinned]).output();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("prodbox-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo service's static binary, built once per run with rustc.
fn demo_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = fixtures_dir().join("context");
            std::fs::create_dir_all(&dir).unwrap();
            let out = dir.join("demo-app");
            sh(Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
                .args(["--edition", "2021", "-O", "-C", "strip=symbols", "-C", "target-feature=+crt-static"])
                .args(["--target", "x86_64-unknown-linux-gnu"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/app.rs"))
                .arg("-o")
                .arg(&out));
            out
        })
        .clone()
}

/// `prodbox-fixture/demo:<version>`, built once per run from Dockerfile.example.
pub fn fixture_image(version: &str) -> String {
    static BUILT: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap();
    if let Some(tag) = built.get(version) {
        return tag.clone();
    }
    let binary = demo_binary();
    let tag = format!("prodbox-fixture/demo:{version}");
    sh(Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-f"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile.example"))
        .args([
            "--build-arg",
            &format!("VERSION={version}"),
            "--build-arg",
            &format!("REVISION=rev{}", version.replace('.', "")),
        ])
        .args(["--label", &format!("{TEST_LABEL}=fixture"), "-t", &tag])
        // Podman 4.3's build cache reuses a layer across different build args.
        .args(if podman() { &["--no-cache"][..] } else { &[] })
        .arg(binary.parent().unwrap()));
    built.insert(version.to_string(), tag.clone());
    tag
}

/// A CNCF distribution registry on 127.0.0.1, killed on drop.
pub struct Registry {
    child: Child,
    pub address: String,
    pub storage: tempfile::TempDir,
    pushed: Mutex<Vec<String>>,
    /// With auth: a DOCKER_CONFIG folder whose config.json holds the login.
    pub docker_config: Option<PathBuf>,
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(None)
    }

    /// A registry that wants `user`/`password` (htpasswd, bcrypt).
    pub fn start_with_auth(user: &str, password: &str) -> Registry {
        Registry::start_with(Some((user, password)))
    }

    fn start_with(auth: Option<(&str, &str)>) -> Registry {
        let bin = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("docker-registry is not installed: apt-get install docker-registry (.ci/run does this)");
        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let config = storage.path().join("config.yml");
        let mut yaml = format!(
            "version: 0.1\nlog: {{ level: error }}\nstorage: {{ filesystem: {{ rootdirectory: {} }} }}\nhttp: {{ addr: {address} }}\n",
            storage.path().join("data").display()
        );
        let mut docker_config = None;
        if let Some((user, password)) = auth {
            let htpasswd = storage.path().join("htpasswd");
            std::fs::write(&htpasswd, sh(Command::new("htpasswd").args(["-Bbn", user, password])) + "\n").unwrap();
            yaml.push_str(&format!("auth: {{ htpasswd: {{ realm: test, path: {} }} }}\n", htpasswd.display()));
            let dir = storage.path().join("docker-config");
            std::fs::create_dir_all(&dir).unwrap();
            let token = sh(Command::new("sh").args(["-c", &format!("printf %s '{user}:{password}' | base64 -w0")]));
            std::fs::write(
                dir.join("config.json"),
                format!("{{\"auths\": {{\"{address}\": {{\"auth\": \"{token}\"}}}}}}"),
            )
            .unwrap();
            docker_config = Some(dir);
        }
        std::fs::write(&config, yaml).unwrap();
        let child =
            Command::new(bin).arg("serve").arg(&config).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "registry did not start on {address}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry { child, address, storage, pushed: Mutex::new(Vec::new()), docker_config }
    }

    /// Pushes a local image as `repo:tag`; returns `address/repo@digest`. The
    /// local tag is removed again so `up` has to pull by digest.
    pub fn push(&self, image: &str, repo: &str, tag: &str) -> String {
        // One push at a time: Podman 4.3 loses a name when two tests add and
        // remove names of the same fixture image at once ("image not known").
        static NAMING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = NAMING.lock().unwrap_or_else(|e| e.into_inner());
        let target = format!("{}/{repo}:{tag}", self.address);
        docker(&["tag", image, &target]);
        let mut push = Command::new("docker");
        if let Some(dir) = &self.docker_config {
            push.env("DOCKER_CONFIG", dir);
        }
        sh(push.args(["push", "-q", &target]));
        // The registry's digest, not the engine's RepoDigests: Podman
        // recompresses on push, so its local record may name another manifest.
        let pinned = format!("{}/{repo}@{}", self.address, self.manifest_digest(repo, tag));
        docker(&["rmi", &target]);
        self.pushed.lock().unwrap().push(pinned.clone());
        pinned
    }

    /// The digest the registry serves for `repo:tag` (`Docker-Content-Digest`).
    pub fn manifest_digest(&self, repo: &str, tag: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.address).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let auth = match &self.docker_config {
            Some(dir) => {
                let config: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
                format!("Authorization: Basic {}\r\n", config["auths"][&self.address]["auth"].as_str().unwrap())
            }
            None => String::new(),
        };
        write!(
            s,
            "HEAD /v2/{repo}/manifests/{tag} HTTP/1.0\r\nHost: {}\r\n{auth}Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("docker-content-digest").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no digest for {repo}:{tag}:\n{text}"))
    }

    /// Where the registry keeps a blob's bytes (to tamper with in tests).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage.path().join(format!("data/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Images pulled from this registry by prodbox.
        if let Ok(pushed) = self.pushed.lock() {
            for pinned in pushed.iter() {
                remove_pulled(pinned);
            }
        }
    }
}

/// A temporary project: profiles/ and deploys/, and the sandbox names used.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub id: String,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
        std::fs::create_dir_all(dir.path().join("deploys")).unwrap();
        Project { dir, id: unique("t") }
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A `file`-source profile for `service` in `repository`, plus `extra` TOML.
    pub fn profile(&self, service: &str, repository: &str, extra: &str) {
        self.write(
            &format!("profiles/{service}.toml"),
            &format!(
                "[source]\nkind = \"file\"\npath = \"../deploys/{service}.json\"\n[image]\nrepository = \"{repository}\"\n{extra}"
            ),
        );
    }

    /// A deploy record for `service`.
    pub fn record(&self, service: &str, image: &str, config: serde_json::Value) {
        let record = serde_json::json!({
            "service": service,
            "environment": "production",
            "image": image,
            "deployed_at": "2026-11-20T14:05:00Z",
            "deployed_by": "pipeline#4411",
            "revision": "9f1c2ab",
            "config": config,
        });
        self.write(&format!("deploys/{service}.json"), &record.to_string());
    }

    /// The prodbox binary, run in this project with a clean environment and
    /// this test's label on everything it creates.
    #[must_use = "check the run: .success(), .code(N), .json()"]
    pub fn prodbox(&self, args: &[&str]) -> Run {
        self.prodbox_env(args, &[])
    }

    #[must_use = "check the run: .success(), .code(N), .json()"]
    pub fn prodbox_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let all = self.labelled(args);
        cmd.args(&all).stdin(Stdio::null());
        let output = cmd.output().unwrap();
        Run::from(output, all)
    }

    /// The prodbox binary in this project's folder, with [`clean_env`].
    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodbox"));
        cmd.current_dir(self.dir.path());
        clean_env(&mut cmd);
        cmd
    }

    /// `args` with this test's label right after `up`, wherever `up` is
    /// (global flags may come first); other commands make nothing to label.
    pub fn labelled(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let end = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        if let Some(at) = args[..end].iter().position(|a| *a == "up") {
            all.insert(at + 1, "--label".into());
            all.insert(at + 2, format!("{TEST_LABEL}={}", self.id));
        }
        all
    }

    /// Containers, networks and volumes this test's sandboxes left.
    pub fn leftovers(&self) -> Vec<String> {
        leftovers(&format!("{TEST_LABEL}={}", self.id))
    }
}

/// The one environment every run of the binary gets: nothing of the
/// caller's but how to find programs, the home folder and the engine and its
/// credentials; no colour; the time zone fixed to UTC, so output does not
/// depend on the machine.
pub fn clean_env(cmd: &mut Command) {
    cmd.env_clear();
    for key in ["PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    cmd.env("NO_COLOR", "1").env("TZ", "UTC");
}

/// Runs `docker args` for cleanup: never panics (a `Drop` may run while a
/// failed test unwinds, and a panic then would abort the whole run).
fn docker_quiet(args: &[&str]) -> String {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// The ingress network every sandbox shares on Docker (on Podman each has its own).
pub const SHARED_INGRESS: &str = "prodbox-ingress";

/// Resources carrying `label` (`key=value`), as "kind name" lines. The
/// shared ingress network is never one: it outlives every sandbox (only
/// `gc` removes it), so it is left out whatever labels it carries.
pub fn leftovers(label: &str) -> Vec<String> {
    let filter = format!("label={label}");
    let mut out = Vec::new();
    for (kind, args) in [
        ("container", vec!["ps", "-aq", "--filter", &filter]),
        ("network", vec!["network", "ls", "--format", "{{.ID}} {{.Name}}", "--filter", &filter]),
        ("volume", vec!["volume", "ls", "-q", "--filter", &filter]),
    ] {
        for line in docker(&args).lines().filter(|l| !l.is_empty()) {
            let (id, name) = line.split_once(' ').unwrap_or((line, ""));
            if kind == "network" && name == SHARED_INGRESS {
                continue;
            }
            out.push(format!("{kind} {id}"));
        }
    }
    out
}

/// The ingress network sandbox `name`'s relay publishes from, by id: the
/// shared one on Docker, the sandbox's own on Podman (every network of the
/// relay's but the sandbox's).
pub fn ingress_of(name: &str) -> String {
    let relay = inspect(&format!("prodbox-{name}-relay"));
    let own = format!("prodbox-{name}");
    let networks = relay["NetworkSettings"]["Networks"].as_object().cloned().unwrap_or_default();
    let (network, endpoint) = networks
        .iter()
        .find(|(n, _)| **n != own)
        .unwrap_or_else(|| panic!("the relay of {name} has no ingress network: {networks:?}"));
    endpoint["NetworkID"].as_str().filter(|id| !id.is_empty()).unwrap_or(network).to_string()
}

/// A network's first IPAM gateway (the host's address on that bridge).
pub fn gateway_of(network: &str) -> String {
    docker(&["network", "inspect", network, "--format", "{{(index .IPAM.Config 0).Gateway}}"])
}

impl Drop for Project {
    fn drop(&mut self) {
        let filter = format!("label={TEST_LABEL}={}", self.id);
        for id in docker_quiet(&["ps", "-aq", "--filter", &filter]).lines().filter(|l| !l.is_empty()) {
            docker_quiet(&["rm", "-f", "-v", id]);
        }
        for id in docker_quiet(&["network", "ls", "-q", "--filter", &filter]).lines().filter(|l| !l.is_empty()) {
            docker_quiet(&["network", "rm", id]);
        }
        for id in docker_quiet(&["volume", "ls", "-q", "--filter", &filter]).lines().filter(|l| !l.is_empty()) {
            docker_quiet(&["volume", "rm", id]);
        }
    }
}

/// One run of the binary. The functions that make one are `#[must_use]`:
/// a run nobody checks (exit code, output) proves nothing.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    args: Vec<String>,
}

impl Run {
    fn from(o: Output, args: Vec<String>) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
            args,
        }
    }

    pub fn success(self) -> Run {
        self.code(0)
    }

    pub fn code(self, want: i32) -> Run {
        assert_eq!(
            self.code, want,
            "prodbox {:?} exited {}, want {want}\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Asserts stdout is exactly `want`.
    pub fn stdout_is(self, want: &str) -> Run {
        assert_eq!(self.stdout, want, "prodbox {:?} stdout differs; stderr:\n{}", self.args, self.stderr);
        self
    }

    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// GET http://127.0.0.1:port/path with a tiny HTTP/1.0 client; returns the body.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(text)
}

/// `docker inspect` of one object, as JSON.
pub fn inspect(what: &str) -> serde_json::Value {
    let text = docker(&["inspect", what]);
    serde_json::from_str::<serde_json::Value>(&text).unwrap()[0].clone()
}

/// A prodbox process running in the foreground, its stderr and stdout read
/// line by line in the background.
pub struct Foreground {
    pub child: Child,
    lines: std::sync::mpsc::Receiver<(bool, String)>,
    /// Every line, stdout and stderr interleaved as they came.
    pub seen: Vec<String>,
    /// The lines that came on stdout.
    pub stdout: Vec<String>,
}

impl Project {
    /// Starts prodbox without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> Foreground {
        let mut cmd = self.command();
        cmd.args(self.labelled(args));
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for (is_stdout, stream) in [
            (true, Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>),
            (false, Box::new(child.stderr.take().unwrap())),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send((is_stdout, line));
                }
            });
        }
        Foreground { child, lines: rx, seen: Vec::new(), stdout: Vec::new() }
    }
}

impl Foreground {
    /// Waits (up to 60 s) for a line containing `needle`.
    pub fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((is_stdout, line)) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let hit = line.contains(needle);
                if is_stdout {
                    self.stdout.push(line.clone());
                }
                self.seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!("no line with {needle:?}; saw:\n{}", self.seen.join("\n"));
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for the exit code.
    pub fn interrupt(self) -> (i32, Vec<String>) {
        let (code, seen, _) = self.interrupt_split();
        (code, seen)
    }

    /// As [`Foreground::interrupt`], with the lines that came on stdout apart.
    pub fn interrupt_split(self) -> (i32, Vec<String>, Vec<String>) {
        self.signal_split("INT")
    }

    /// Waits for it to exit by itself: its exit code and every line.
    pub fn wait(mut self) -> (i32, Vec<String>) {
        let status = self.child.wait().unwrap();
        // The readers end at end of file, and with them the channel.
        for (_, line) in self.lines.iter() {
            self.seen.push(line);
        }
        (status.code().unwrap_or(-1), std::mem::take(&mut self.seen))
    }

    /// Sends `signal` (`INT`, `TERM`, `HUP`) and waits for the exit code.
    pub fn signal(self, signal: &str) -> (i32, Vec<String>) {
        let (code, seen, _) = self.signal_split(signal);
        (code, seen)
    }

    fn signal_split(mut self, signal: &str) -> (i32, Vec<String>, Vec<String>) {
        sh(Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]));
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        for (is_stdout, line) in self.lines.try_iter() {
            if is_stdout {
                self.stdout.push(line.clone());
            }
            self.seen.push(line);
        }
        (status.code().unwrap_or(-1), std::mem::take(&mut self.seen), std::mem::take(&mut self.stdout))
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PUT `body` to `http://address/path`; returns the status line.
pub fn http_put(address: &str, path: &str, content_type: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(address).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines().next().unwrap_or_default().to_string()
}

/// sha256:<hex> of bytes, via sha256sum (the tests check prodbox's hashing, not their own).
pub fn sha256(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    format!("sha256:{}", String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap())
}

/// The setup most tests repeat: a registry, the fixture image pushed as a
/// service's release, its profile and its deploy record.
///
/// ```ignore
/// let f = Fixture::new("checkout").run(HTTP_HEALTH).config(json!({"env": {"A": "1"}})).build();
/// f.project.prodbox(&["up", "checkout", "-d"]).success();
/// ```
pub struct Fixture {
    service: String,
    version: String,
    run: String,
    config: serde_json::Value,
}

/// What [`Fixture::build`] made. Fields drop in order: the project (and its
/// sandboxes) before the registry.
pub struct Released {
    pub project: Project,
    /// `registry/shop/SERVICE@sha256:…` as pushed.
    pub pinned: String,
    /// `registry/shop/SERVICE`.
    pub repository: String,
    pub registry: Registry,
}

impl Fixture {
    /// Version 1.0.0 of `service`, no `[run]` section, no config.
    pub fn new(service: &str) -> Fixture {
        Fixture {
            service: service.into(),
            version: "1.0.0".into(),
            run: String::new(),
            config: serde_json::Value::Null,
        }
    }

    /// The profile's extra sections (`[run]`, `[sanitize]`, …).
    pub fn run(mut self, extra: &str) -> Fixture {
        self.run = extra.into();
        self
    }

    /// The record's `config`.
    pub fn config(mut self, config: serde_json::Value) -> Fixture {
        self.config = config;
        self
    }

    /// Which fixture version is released.
    pub fn version(mut self, version: &str) -> Fixture {
        self.version = version.into();
        self
    }

    /// Starts the registry, pushes, writes the profile and the record.
    pub fn build(self) -> Released {
        let registry = Registry::start();
        let repository = format!("{}/shop/{}", registry.address, self.service);
        let pinned = registry.push(&fixture_image(&self.version), &format!("shop/{}", self.service), &self.version);
        let project = Project::new();
        project.profile(&self.service, &repository, &self.run);
        project.record(&self.service, &pinned, self.config);
        Released { project, pinned, repository, registry }
    }
}
