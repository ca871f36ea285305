# Machine-learning project .gitignore (written by DS01 git-init). Large or private files stay
# out of git: data/ and checkpoints/ are never versioned.

# Data sets and outputs
data/
results/
outputs/
wandb/
mlruns/
lightning_logs/
runs/

# Training checkpoints
checkpoints/
*.ckpt

# Model weights
{{MODEL_RULES}}

# Caches
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.cache/
.pytest_cache/
.mypy_cache/
.ruff_cache/
*.egg-info/
.venv/
venv/

# Secrets: never commit keys or tokens
.env
.env.*
*.pem
*.key
id_rsa*
id_ed25519*
secrets/
credentials*.json
.netrc

# Editors and OS
.vscode/
.idea/
.DS_Store
