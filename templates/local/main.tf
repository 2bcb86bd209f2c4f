# A workspace that is a folder on the runner's machine.
#   terraform_data.home  - the folder: made on create, kept while stopped, removed on delete
#   terraform_data.agent - the agent process: exists only while the workspace is started
# Only built-in resources and local-exec are used, so no provider has to be downloaded. What the
# provisioners run is in scripts/ (who.sh: the user the workspace runs as, see run_as).

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

variable "coder_agent_init_script" {
  description = "Fetches the agent from the server; used when the runner's own agent cannot be read by the workspace's user."
  type        = string
  default     = ""
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

variable "run_as" {
  description = <<-EOT
    The Unix user that owns the workspace folder and runs its processes. Empty: the runner's own user,
    or nobody when the runner is root. "root" keeps a root runner's workspaces as root. Any other user
    needs a root runner; set it in coder-git.yaml terraform.variables.
  EOT
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
    command = "sh ${path.module}/scripts/home.sh"
    environment = {
      DIR      = local.dir
      INIT_GIT = tostring(var.init_git)
      RUN_AS   = var.run_as
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
  triggers_replace = [sha256(var.coder_agent_token), var.motd, var.coder_agent_command, var.run_as]

  # scripts/start.sh: the pid file sits beside the folder, not in it, so an agent whose folder was
  # removed by hand (drift) is still found and stopped; the agent's output goes to .agent.log.
  provisioner "local-exec" {
    command = "sh ${path.module}/scripts/start.sh"
    environment = {
      DIR           = local.dir
      ROOT          = local.root
      MOTD          = var.motd
      AGENT_COMMAND = var.coder_agent_command
      INIT          = var.coder_agent_init_script
      TOKEN         = var.coder_agent_token
      URL           = var.coder_access_url
      RUN_AS        = var.run_as
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "sh ${path.module}/scripts/stop.sh"
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
