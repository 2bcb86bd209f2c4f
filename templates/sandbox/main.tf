# A workspace in a bubblewrap sandbox on the runner's machine (README: The sandbox template).
#   terraform_data.image   - the root filesystem: a Debian minbase made once with debootstrap (from the
#                            mirror the runner's apt uses), or a tarball extracted once; shared read-only
#   terraform_data.home    - the workspace's home: made on create, kept while stopped, removed on delete
#   terraform_data.sandbox - bwrap running coder_agent_init_script inside, while the workspace is started
# Inside: only the image (read-only), the home (/home/coder), a private /tmp, /proc and /dev; its own
# mount, PID, UTS and IPC namespaces; uid 1000; an environment of its own (nothing of the runner's or
# Terraform's). Only built-in resources and local-exec are used, so it runs offline.
terraform {
  required_version = ">= 1.4" # terraform_data
}

variable "coder_workspace_id" {
  type = string
}

variable "coder_workspace_owner" {
  type = string
}

variable "coder_workspace_name" {
  type = string
}

variable "coder_workspace_transition" {
  type    = string
  default = "start"
}

variable "coder_access_url" {
  type = string
}

variable "coder_agent_token" {
  type      = string
  sensitive = true
}

variable "coder_agent_init_script" {
  description = "Fetches the agent from the coder-git server and runs it (README: the Terraform contract)."
  type        = string
}

variable "sandboxes_root" {
  description = "Folder for the images and the workspaces' homes; set it in coder-git.yaml terraform.variables."
  type        = string
  default     = ""
}

variable "images_root" {
  description = "Folder for the root filesystem images (shared by every workspace); default: <sandboxes_root>/images."
  type        = string
  default     = ""
}

variable "debian_mirror" {
  description = "Debian mirror for the default image; empty: the one the runner's apt uses."
  type        = string
  default     = ""
}

variable "debian_suite" {
  type    = string
  default = "bookworm"
}

variable "image_tarball" {
  type    = string
  default = ""
}

locals {
  root   = var.sandboxes_root != "" ? var.sandboxes_root : pathexpand("~/.local/share/coder-git/sandboxes")
  home   = "${local.root}/homes/${var.coder_workspace_id}"
  images = var.images_root != "" ? var.images_root : "${local.root}/images"
  image  = var.image_tarball != "" ? "${local.images}/tar-${substr(sha256(var.image_tarball), 0, 16)}" : "${local.images}/debian-${var.debian_suite}-minbase"
}

resource "terraform_data" "image" {
  input = { dir = local.image }
  # Made once and shared: a folder that exists is reused. Concurrent builds wait on one lock, and the
  # image is built under a temporary name and renamed, so a half-made image is never used.
  provisioner "local-exec" {
    command = <<-EOT
      set -e
      [ -d "$IMAGE" ] && exit 0
      command -v bwrap >/dev/null || { echo "sandbox: bubblewrap is not installed on the runner (apt-get install bubblewrap)" >&2; exit 1; }
      mkdir -p "$(dirname "$IMAGE")"
      exec 9> "$IMAGE.lock"
      flock 9
      [ -d "$IMAGE" ] && exit 0
      tmp="$IMAGE.tmp-$$"
      rm -rf "$tmp"
      mkdir -p "$tmp"
      if [ -n "$TARBALL" ]; then
        tar -xf "$TARBALL" -C "$tmp"
      else
        command -v debootstrap >/dev/null || { echo "sandbox: debootstrap is not installed on the runner (apt-get install debootstrap), or give image_tarball" >&2; exit 1; }
        mirror="$MIRROR"
        [ -n "$mirror" ] || mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)
        [ -n "$mirror" ] || mirror=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\(http[^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)
        [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
        echo "sandbox: making the $SUITE image from $mirror (once)"
        debootstrap --variant=minbase --include=curl,ca-certificates "$SUITE" "$tmp" "$mirror" > "$IMAGE.debootstrap.log" 2>&1 || { tail -n 20 "$IMAGE.debootstrap.log" >&2; exit 1; }
      fi
      chmod 755 "$tmp"
      mv "$tmp" "$IMAGE"
    EOT
    environment = {
      IMAGE   = local.image
      TARBALL = var.image_tarball
      MIRROR  = var.debian_mirror
      SUITE   = var.debian_suite
    }
  }
}

resource "terraform_data" "home" {
  input = { dir = local.home }
  provisioner "local-exec" {
    command = "mkdir -p \"$HOME_DIR\" && chmod 700 \"$HOME_DIR\""
    environment = {
      HOME_DIR = local.home
    }
  }
  provisioner "local-exec" {
    when    = destroy
    command = "rm -rf \"$HOME_DIR\""
    environment = {
      HOME_DIR = self.input.dir
    }
  }
}

resource "terraform_data" "sandbox" {
  count      = var.coder_workspace_transition == "start" ? 1 : 0
  depends_on = [terraform_data.image, terraform_data.home]
  input      = { pidfile = "${local.home}.pid" }
  # Every build brings a new agent token, so every start runs a fresh sandbox.
  triggers_replace = [sha256(var.coder_agent_token), local.image]
  # setsid: its own process group (stop signals all of it) and Terraform does not wait for it.
  provisioner "local-exec" {
    command = <<-EOT
      set -e
      # bwrap reads its arguments from stdin (--args 0), so the sandbox's PID 1 shows no token and no
      # host path in its command line, and it runs with an empty environment (env -i): nothing of
      # Terraform's environment (TF_VAR_*, terraform.env secrets) is readable in /proc inside.
      printf '%s\0' \
        --unshare-user --unshare-pid --unshare-uts --unshare-ipc --unshare-cgroup-try \
        --uid 1000 --gid 1000 --hostname "$NAME" \
        --ro-bind "$IMAGE" / \
        --tmpfs /home --bind "$HOME_DIR" /home/coder \
        --proc /proc --dev /dev --tmpfs /tmp --tmpfs /run \
        --ro-bind-try /etc/resolv.conf /etc/resolv.conf \
        --chdir /home/coder \
        --clearenv \
        --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --setenv HOME /home/coder --setenv USER coder --setenv LANG C.UTF-8 \
        --setenv CODER_AGENT_URL "$URL" --setenv CODER_AGENT_TOKEN "$TOKEN" |
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin setsid bwrap --args 0 sh -c "$INIT" > "$HOME_DIR.log" 2>&1 &
      pid=$!
      echo $pid > "$HOME_DIR.pid"
      # Until the agent says it is connected (at most 20 s): a sandbox that ends at once (an image
      # without curl or glibc, a runtime that cannot run) fails the build with its own words, which
      # the build log keeps. (A child that ended is a zombie until reaped: its state tells.)
      i=0
      while [ $i -lt 200 ]; do
        grep -q 'agent: connected to' "$HOME_DIR.log" 2>/dev/null && exit 0
        state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)
        if [ -z "$state" ] || [ "$state" = Z ]; then
          echo "sandbox: the workspace stopped as it started:" >&2
          cat "$HOME_DIR.log" >&2
          exit 1
        fi
        sleep 0.1
        i=$((i + 1))
      done
    EOT
    environment = {
      NAME     = var.coder_workspace_name
      IMAGE    = local.image
      HOME_DIR = local.home
      URL      = var.coder_access_url
      TOKEN    = var.coder_agent_token
      INIT     = var.coder_agent_init_script
    }
  }
  provisioner "local-exec" {
    when    = destroy
    command = <<-EOT
      [ -f "$PIDFILE" ] || exit 0
      pid=$(cat "$PIDFILE")
      kill -TERM "-$pid" 2>/dev/null || true
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
      kill -KILL "-$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
    EOT
    environment = {
      PIDFILE = self.input.pidfile
    }
  }
}

output "home" {
  value = local.home
}
