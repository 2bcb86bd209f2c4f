# A workspace that is an EC2 instance. Stopping a workspace stops the instance (the disk stays);
# deleting it terminates the instance.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
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

variable "region" {
  type = string
}

variable "instance_type" {
  type = string
}

variable "disk_gb" {
  type = number
}

provider "aws" {
  region = var.region
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical
  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }
}

variable "coder_agent_init_script" {
  description = "Fetches the agent from the coder-git server and runs it (README: the Terraform contract)."
  type        = string
}

resource "aws_instance" "workspace" {
  ami               = data.aws_ami.ubuntu.id
  instance_type     = var.instance_type
  availability_zone = "${var.region}a"
  root_block_device {
    volume_size = var.disk_gb
  }
  # cloud-init starts the agent on every boot, with this build's token.
  user_data_replace_on_change = false
  user_data                   = <<-EOT
    #cloud-config
    write_files:
      - path: /etc/coder-agent.env
        permissions: "0600"
        content: |
          CODER_AGENT_URL=${var.coder_access_url}
          CODER_AGENT_TOKEN=${var.coder_agent_token}
      - path: /usr/local/bin/coder-agent-init
        permissions: "0755"
        content: ${jsonencode(var.coder_agent_init_script)}
    runcmd:
      - [sh, -c, "set -a; . /etc/coder-agent.env; set +a; HOME=/root exec /usr/local/bin/coder-agent-init"]
  EOT
  tags = {
    Name                  = "coder-${var.coder_workspace_owner}-${var.coder_workspace_name}"
    "coder-git/workspace" = var.coder_workspace_id
  }
  lifecycle {
    ignore_changes = [ami]
  }
}

resource "aws_ec2_instance_state" "workspace" {
  instance_id = aws_instance.workspace.id
  state       = var.coder_workspace_transition == "start" ? "running" : "stopped"
}
