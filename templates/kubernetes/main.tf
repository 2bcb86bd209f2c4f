# A workspace that is a pod; the home volume is a PersistentVolumeClaim that survives stops.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.30"
    }
  }
}

variable "namespace" {
  description = "Namespace for workspaces; set it in coder-git.yaml terraform.variables."
  type        = string
  default     = "coder-workspaces"
}

variable "image" {
  description = "Workspace image; it must have sh and curl."
  type        = string
  default     = "codercom/enterprise-base:ubuntu"
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

variable "cpu" {
  type = number
}

variable "memory_gi" {
  type = number
}

variable "home_disk_gi" {
  type = number
}

provider "kubernetes" {
  # In-cluster credentials, or KUBECONFIG passed through coder-git.yaml terraform.env.
}

locals {
  labels = {
    "app.kubernetes.io/name"     = "coder-workspace"
    "coder-git.dev/workspace-id" = var.coder_workspace_id
    "coder-git.dev/owner"        = var.coder_workspace_owner
  }
}

resource "kubernetes_persistent_volume_claim_v1" "home" {
  metadata {
    name      = "coder-${var.coder_workspace_id}-home"
    namespace = var.namespace
    labels    = local.labels
  }
  wait_until_bound = false
  spec {
    access_modes = ["ReadWriteOnce"]
    resources {
      requests = {
        storage = "${var.home_disk_gi}Gi"
      }
    }
  }
}

variable "coder_agent_init_script" {
  description = "Fetches the agent from the coder-git server and runs it (README: the Terraform contract)."
  type        = string
}

resource "kubernetes_secret_v1" "agent" {
  metadata {
    name      = "coder-${var.coder_workspace_id}-agent"
    namespace = var.namespace
    labels    = local.labels
  }
  data = {
    CODER_AGENT_TOKEN = var.coder_agent_token
  }
}

resource "kubernetes_deployment_v1" "workspace" {
  metadata {
    name      = "coder-${var.coder_workspace_owner}-${var.coder_workspace_name}"
    namespace = var.namespace
    labels    = local.labels
  }
  wait_for_rollout = false
  spec {
    replicas = var.coder_workspace_transition == "start" ? 1 : 0
    strategy {
      type = "Recreate"
    }
    selector {
      match_labels = local.labels
    }
    template {
      metadata {
        labels = local.labels
      }
      spec {
        container {
          name    = "dev"
          image   = var.image
          command = ["sh", "-c", var.coder_agent_init_script]
          env {
            name  = "CODER_AGENT_URL"
            value = var.coder_access_url
          }
          env_from {
            secret_ref {
              name = kubernetes_secret_v1.agent.metadata[0].name
            }
          }
          resources {
            requests = {
              cpu    = "${var.cpu}"
              memory = "${var.memory_gi}Gi"
            }
            limits = {
              cpu    = "${var.cpu}"
              memory = "${var.memory_gi}Gi"
            }
          }
          volume_mount {
            name       = "home"
            mount_path = "/home/coder"
          }
        }
        volume {
          name = "home"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.home.metadata[0].name
          }
        }
      }
    }
  }
}
