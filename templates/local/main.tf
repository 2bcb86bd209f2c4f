# A workspace that is a folder on the runner's machine.
#   terraform_data.home  - the folder: made on create, kept while stopped, removed on delete
#   terraform_data.agent - the agent process: exists only while the workspace is started
# Only built-in resources and local-exec are used, so no provider has to be downloaded.

terraform {
  required_version = ">= 1.4" # terraform_data
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
  type    = string
  default = ""
}

variable "coder_agent_token" {
  type      = string
  default   = ""
  sensitive = true
}

variable "coder_agent_command" {
  description = "How to start coder-git's agent on this machine; set by coder-git. Empty: a stand-in process."
  type        = string
  default     = ""
}

variable "workspaces_root" {
  description = "Folder that holds the workspace folders; set it in coder-git.yaml terraform.variables."
  type        = string
  default     = ""
}

variable "motd" {
  type = string
}

variable "init_git" {
  type = bool
}

locals {
  root = var.workspaces_root != "" ? var.workspaces_root : pathexpand("~/.local/share/coder-git/workspaces")
  dir  = "${local.root}/${var.coder_workspace_owner}/${var.coder_workspace_name}"
}

resource "terraform_data" "home" {
  input            = { dir = local.dir }
  triggers_replace = [local.dir]

  provisioner "local-exec" {
    command = "mkdir -p \"$DIR\" && touch \"$DIR/.coder-git-workspace\" && if [ \"$INIT_GIT\" = true ]; then git -C \"$DIR\" init -q; fi"
    environment = {
      DIR      = local.dir
      INIT_GIT = tostring(var.init_git)
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "rm -rf \"$DIR\""
    environment = {
      DIR = self.input.dir
    }
  }
}

resource "terraform_data" "agent" {
  count      = var.coder_workspace_transition == "start" ? 1 : 0
  depends_on = [terraform_data.home]
  input      = { dir = local.dir }

  # Every build brings a new agent token, so every start runs a fresh agent, as in Coder.
  triggers_replace = [sha256(var.coder_agent_token), var.motd, var.coder_agent_command]

  # The pid file sits beside the folder, not in it: an agent whose folder was removed by hand
  # (drift) is still found and stopped.
  # setsid puts the agent in its own process group, so stop can signal the agent and its children,
  # and Terraform does not wait for it: all of its output goes to .agent.log.
  provisioner "local-exec" {
    command = <<-EOT
      set -e
      # remade on every start, so a start repairs a folder removed by hand (see the last output)
      mkdir -p "$DIR" && touch "$DIR/.coder-git-workspace"
      printf '%s\n' "$MOTD" > "$DIR/.motd"
      cmd="$AGENT_COMMAND"
      [ -n "$cmd" ] || cmd="exec tail -f /dev/null"
      cd "$DIR"
      CODER_AGENT_TOKEN="$TOKEN" CODER_AGENT_URL="$URL" setsid sh -c "$cmd" > "$DIR/.agent.log" 2>&1 < /dev/null &
      echo $! > "$DIR.agent.pid"
    EOT
    environment = {
      DIR           = local.dir
      MOTD          = var.motd
      AGENT_COMMAND = var.coder_agent_command
      TOKEN         = var.coder_agent_token
      URL           = var.coder_access_url
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = <<-EOT
      [ -f "$DIR.agent.pid" ] || exit 0
      pid=$(cat "$DIR.agent.pid")
      kill -TERM "-$pid" 2>/dev/null || true
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
      kill -KILL "-$pid" 2>/dev/null || true
      rm -f "$DIR.agent.pid"
    EOT
    environment = {
      DIR = self.input.dir
    }
  }
}

output "dir" {
  value = local.dir
}

# Drift: coder-git's drift check (a refresh-only plan) sees this turn false when the workspace folder
# is removed outside Terraform; --self-heal then starts the workspace again, which remakes it.
# terraform_data has no remote object to refresh, so this output is the local template's signal.
# The path is taken from the agent while it exists: its output is unknown until it is (re)created,
# which makes Terraform evaluate this after the agent's provisioner remade the folder, not at plan.
output "home_present" {
  value = fileexists("${coalesce(one(terraform_data.agent[*].output.dir), terraform_data.home.output.dir)}/.coder-git-workspace")
}
