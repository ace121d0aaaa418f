from django.dispatch import Signal

# Sent with user= and email= once a customer has proven an email address is theirs.
email_verified = Signal()
