# A workspace that is a Docker container; /home/coder lives on a volume that survives stops.

terraform {
  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 3.0"
    }
  }
}

variable "docker_host" {
  description = "Docker daemon to use; set it in coder-git.yaml terraform.variables."
  type        = string
  default     = "unix:///var/run/docker.sock"
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

variable "image" {
  type = string
}

variable "cpus" {
  type = number
}

variable "memory_mb" {
  type = number
}

provider "docker" {
  host = var.docker_host
}

resource "docker_volume" "home" {
  name = "coder-${var.coder_workspace_id}-home"
  lifecycle {
    ignore_changes = all
  }
}

resource "docker_container" "workspace" {
  count      = var.coder_workspace_transition == "start" ? 1 : 0
  image      = var.image
  name       = "coder-${var.coder_workspace_owner}-${var.coder_workspace_name}"
  hostname   = var.coder_workspace_name
  cpu_shares = floor(var.cpus * 1024)
  memory     = var.memory_mb
  # The agent is fetched from the coder-git server the workspace reports to, and run.
  entrypoint = ["sh", "-c", var.coder_agent_init_script]
  env = [
    "CODER_AGENT_URL=${var.coder_access_url}",
    "CODER_AGENT_TOKEN=${var.coder_agent_token}",
  ]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
  volumes {
    container_path = "/home/coder"
    volume_name    = docker_volume.home.name
  }
}
